import { elements, NS, parseXml } from "./xml";

/**
 * When the IdP says the person authenticated (the AuthnStatement's AuthnInstant), read from the
 * assertion as signed: a SAML sign-in's counterpart of OIDC's auth_time, for step-up requests
 * (lib/approvals/step-up.ts). Undefined when there is none, or several that disagree, or one that
 * is not a time: then no step-up request counts the sign-in as fresh.
 */
export function authnInstantOf(signedAssertionXml: string): Date | undefined {
  const assertion = parseXml(signedAssertionXml, "the signed assertion").documentElement!;
  const instants = elements(assertion, NS.assertion, "AuthnStatement").map((s) => Date.parse(s.getAttribute("AuthnInstant") ?? ""));
  if (instants.length === 0 || instants.some((t) => !Number.isFinite(t) || t !== instants[0])) return undefined;
  return new Date(instants[0]);
}
