/**
 * How a console session was signed in, as the session token keeps it (JSON): the method, and the
 * ID token's `auth_time` (seconds since the epoch, as OIDC writes it) when the IdP gave one.
 * lib/approvals/step-up.ts reads it when a request asks for a fresh sign-in.
 */
export interface SessionSignIn {
  method: "oidc" | "saml";
  authTime?: number;
}

/** The ID token's `auth_time`, if it is a plausible time in seconds; anything else is as if absent (fail closed). */
export function authTimeOf(profile: Readonly<Record<string, unknown>>): { authTime?: number } {
  const t = profile.auth_time;
  return typeof t === "number" && Number.isInteger(t) && t > 0 ? { authTime: t } : {};
}
