import { SamlRefusal } from "./refusal";
import { elements, NS, parseXml } from "./xml";

const BEARER = "urn:oasis:names:tc:SAML:2.0:cm:bearer";

/** What the replay cache keeps of an assertion: its id, and until when it could be accepted. */
export interface AssertionUse {
  id: string;
  usableUntil: Date;
}

/**
 * The checks node-saml leaves to its caller, made on the assertion as signed (never on the
 * unsigned envelope around it): the issuer is the IdP, the bearer confirmation names Airlock's ACS URL as its Recipient
 * (an assertion made for another service's ACS cannot be replayed here), and the assertion has an
 * id and an end of validity, which the replay cache needs. `skewMs` extends the end as node-saml
 * allowed it.
 */
export function checkSignedAssertion(signedAssertionXml: string, expected: { issuer: string; acsUrl: string }, skewMs: number): AssertionUse {
  const { acsUrl } = expected;
  const assertion = parseXml(signedAssertionXml, "the signed assertion").documentElement!;
  const id = assertion.getAttribute("ID");
  if (!id) throw new SamlRefusal("malformed", "the assertion has no ID");
  // node-saml checks the Issuer of logout messages only; a key shared by several entities must not let one speak for another.
  const issuer = elements(assertion, NS.assertion, "Issuer")[0]?.textContent?.trim();
  if (issuer !== expected.issuer) throw new SamlRefusal("issuer", `Issuer ${issuer ?? "missing"}, expected ${expected.issuer}`);

  const bearers = elements(assertion, NS.assertion, "SubjectConfirmation").filter((c) => c.getAttribute("Method") === BEARER);
  const data = bearers.flatMap((c) => elements(c, NS.assertion, "SubjectConfirmationData"));
  const recipients = data.map((d) => d.getAttribute("Recipient") ?? "");
  if (!recipients.includes(acsUrl)) throw new SamlRefusal("recipient", `Recipient ${recipients.join(", ") || "missing"}, expected ${acsUrl}`);

  const ends = [...data, ...elements(assertion, NS.assertion, "Conditions")]
    .map((e) => Date.parse(e.getAttribute("NotOnOrAfter") ?? ""))
    .filter((t) => Number.isFinite(t));
  // Without an end the assertion would be valid for ever, and the replay cache could never forget it.
  if (ends.length === 0) throw new SamlRefusal("expired", "the assertion has no NotOnOrAfter");
  return { id, usableUntil: new Date(Math.min(...ends) + skewMs) };
}

/** A Response that names its Destination must name Airlock's ACS URL (SAML core, 3.2.2). */
export function checkDestination(responseXml: string, acsUrl: string): void {
  const destination = parseXml(responseXml, "the SAML response").documentElement!.getAttribute("Destination");
  if (destination && destination !== acsUrl) throw new SamlRefusal("recipient", `Destination ${destination}, expected ${acsUrl}`);
}

/** Whether anything in the response is signed at all: an unsigned one is told apart from a forged one. */
export function hasSignature(responseXml: string): boolean {
  return elements(parseXml(responseXml, "the SAML response"), NS.dsig, "Signature").length > 0;
}

/** The InResponseTo of the response, to compare with the request this browser started. */
export function inResponseTo(responseXml: string): string | undefined {
  return parseXml(responseXml, "the SAML response").documentElement!.getAttribute("InResponseTo") || undefined;
}
