/** Why a SAML response was refused; the code goes in the sign-in page's URL, the message to the log. */
export const SAML_REFUSALS = {
  unsigned: "the response carries no signature",
  signature: "the signature is not the identity provider's, or the signed content was changed",
  expired: "the assertion is expired or not yet valid",
  audience: "the assertion is meant for another service provider",
  recipient: "the assertion was sent to another address than Airlock's",
  request: "the response answers no sign-in this browser started (or it took too long)",
  replayed: "the assertion was used already",
  issuer: "the response comes from another identity provider",
  status: "the identity provider did not sign the person in",
  person: "the assertion names no email address for the person",
  malformed: "the response is not a SAML response Airlock can read",
} as const;

export type SamlRefusalCode = keyof typeof SAML_REFUSALS;

export class SamlRefusal extends Error {
  constructor(
    readonly code: SamlRefusalCode,
    detail?: string,
  ) {
    super(`SAML sign-in refused: ${SAML_REFUSALS[code]}${detail ? ` (${detail})` : ""}`);
    this.name = "SamlRefusal";
  }
}

/**
 * By name, not `instanceof`: the provider is made by server.ts, and Next.js bundles its own copy
 * of this module for the routes that catch the refusal (DESIGN.md, "Shape").
 */
export function isSamlRefusal(err: unknown): err is SamlRefusal {
  return err instanceof Error && err.name === "SamlRefusal" && Object.hasOwn(SAML_REFUSALS, (err as SamlRefusal).code);
}

/**
 * node-saml says why in its error messages only; each is sorted into the refusal a person and an
 * operator understand. Anything unknown is "malformed": refused all the same.
 */
export function refusalFromLibrary(err: unknown): SamlRefusal {
  if (isSamlRefusal(err)) return err;
  const message = err instanceof Error ? err.message : String(err);
  const code = LIBRARY_MESSAGES.find(([pattern]) => pattern.test(message))?.[1] ?? "malformed";
  return new SamlRefusal(code, message);
}

const LIBRARY_MESSAGES: readonly [RegExp, SamlRefusalCode][] = [
  [/signature/i, "signature"],
  [/expired|not yet valid|no valid subject confirmation/i, "expired"],
  [/audience/i, "audience"],
  [/inresponseto/i, "request"],
  [/issuer/i, "issuer"],
  [/status code/i, "status"],
];
