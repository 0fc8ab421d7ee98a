import type { PublicUrl } from "../../public-url";
import { SAML_PATHS } from "./start";
import { REQUEST_TTL_MS } from "./request-cache";

/**
 * The AuthnRequest id this browser started, so a response is accepted only in the browser that
 * asked for it (an attacker's own response pushed into someone's browser signs no one in). Over
 * https it is SameSite=None: the IdP's POST to the ACS is cross-site, and a Lax cookie would not
 * come along. Plain http allows only Lax, which works when the IdP is on the same site (the
 * development one); docs/saml.md says so.
 */
export function requestCookie(pub: PublicUrl): { name: string; set(id: string): string; clear(): string } {
  const name = `${pub.secure ? "__Secure-" : ""}airlock.saml-request`;
  const attributes = [`Path=${pub.prefix}${SAML_PATHS.acs.replace(/\/acs$/, "")}`, "HttpOnly", pub.secure ? "Secure; SameSite=None" : "SameSite=Lax"].join("; ");
  return {
    name,
    set: (id) => `${name}=${encodeURIComponent(id)}; Max-Age=${REQUEST_TTL_MS / 1000}; ${attributes}`,
    clear: () => `${name}=; Max-Age=0; ${attributes}`,
  };
}

export function readCookie(header: string | null, name: string): string | undefined {
  for (const part of header?.split(";") ?? []) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return undefined;
}
