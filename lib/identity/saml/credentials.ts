import { CredentialsSignin } from "@auth/core/errors";
import type { PublicUrl } from "../../public-url";
import { logger } from "../../log";
import { readCookie, requestCookie } from "./request-cookie";
import { isSamlRefusal, SamlRefusal, type SamlRefusalCode } from "./refusal";
import type { SamlSignIn } from "./start";

const log = logger("saml");

/** A refused SAML sign-in as Auth.js reports it: the code reaches the sign-in page, the reason the log. */
class SamlSignInRefused extends CredentialsSignin {
  constructor(refusal: SamlRefusal) {
    super(refusal.message);
    this.code = `saml_${refusal.code}` satisfies `saml_${SamlRefusalCode}`;
  }
}

/** The code of a refused SAML sign-in (`saml_signature`…), whichever bundle's class threw it. */
export function samlRefusedCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | undefined)?.code;
  return err instanceof Error && typeof code === "string" && code.startsWith("saml_") ? code : undefined;
}

/** The person next-auth keeps in the session token after a SAML sign-in. */
export interface SamlUser {
  id: string;
  email: string;
  name: string | null;
  groups: string[];
  issuer: string;
  /** The assertion's AuthnInstant in seconds since the epoch (as OIDC's auth_time), for step-up requests. */
  authTime?: number;
}

/**
 * The Auth.js Credentials provider for SAML. Its only credential is the SAMLResponse, verified
 * here in full, so no way into this provider (the ACS route, or a direct POST to Auth.js's
 * callback with a CSRF token) makes a session without a valid assertion for this browser.
 */
export function samlCredentialsProvider(saml: SamlSignIn, pub: PublicUrl, refused: (refusal: SamlRefusal) => void) {
  const cookie = requestCookie(pub);
  return {
    id: "saml",
    name: saml.development ? "the development SAML IdP" : "SAML",
    type: "credentials" as const,
    credentials: { SAMLResponse: {} },
    async authorize(credentials: Partial<Record<string, unknown>>, request: Request): Promise<SamlUser> {
      const response = typeof credentials.SAMLResponse === "string" ? credentials.SAMLResponse : "";
      try {
        const person = await saml.sp.verify(response, readCookie(request.headers.get("cookie"), cookie.name));
        const authTime = person.authnInstant && Math.floor(person.authnInstant.getTime() / 1000);
        return { id: person.subject, email: person.email, name: person.name, groups: person.groups, issuer: person.issuer, ...(authTime ? { authTime } : {}) };
      } catch (err) {
        const refusal = isSamlRefusal(err) ? err : new SamlRefusal("malformed", err instanceof Error ? err.message : String(err));
        log.warn(refusal.message, { code: refusal.code });
        refused(refusal);
        throw new SamlSignInRefused(refusal);
      }
    },
  };
}
