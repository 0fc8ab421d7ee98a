/**
 * Where to go after sign-in, carried through the IdP as RelayState: a path on this site only (the
 * IdP, or whoever posts to the ACS, chooses it). SAML allows 80 bytes; a longer one becomes "/".
 */
export function sitePath(value: unknown): string {
  return typeof value === "string" && value.startsWith("/") && !value.startsWith("//") && !value.includes("\\") && value.length <= 80 ? value : "/";
}
