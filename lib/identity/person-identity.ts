/**
 * Who a signed-in person is to their identity provider: its issuer and their subject there.
 * Emails can be changed, reused or spelled differently; (issuer, subject) is what the IdP
 * guarantees unique, so decisions compare it when the session carries it (lib/approvals/people).
 */
export interface PersonIdentity {
  issuer: string;
  subject: string;
}

/**
 * The identity to keep in the session token at sign-in: the ID token's `iss` and `sub`. The
 * issuer falls back to the provider's configured one, which validated the ID token anyway.
 */
export function identityFromProfile(profile: { iss?: unknown; sub?: unknown }, providerIssuer: string): PersonIdentity | undefined {
  if (typeof profile.sub !== "string" || profile.sub === "") return undefined;
  return { issuer: typeof profile.iss === "string" && profile.iss !== "" ? profile.iss : providerIssuer, subject: profile.sub };
}

/** The identity a session token carries; undefined for a token from before identities were kept (email alone then). */
export function identityFromToken(token: { sub?: unknown; issuer?: unknown }): PersonIdentity | undefined {
  if (typeof token.sub !== "string" || token.sub === "" || typeof token.issuer !== "string" || token.issuer === "") return undefined;
  return { issuer: token.issuer, subject: token.sub };
}
