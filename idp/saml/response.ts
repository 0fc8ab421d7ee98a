import { randomBytes } from "node:crypto";
import { SignedXml } from "xml-crypto";
import { escapeHtml as escapeXml } from "../login-page";

/** What an assertion says, and to whom: everything a test may want to get wrong on purpose. */
export interface AssertionContent {
  issuer: string;
  /** The AuthnRequest answered. */
  inResponseTo: string;
  /** The SP's ACS URL: the response's Destination and the bearer confirmation's Recipient. */
  recipient: string;
  audience: string;
  nameId: string;
  attributes: Record<string, string | string[]>;
  notBefore: Date;
  notOnOrAfter: Date;
  /** Default: a new random id. */
  assertionId?: string;
  /** When the person authenticated (AuthnStatement's AuthnInstant). Default: notBefore, as for a login just now. */
  authnInstant?: Date;
}

export interface Signer {
  privateKey: string;
  cert: string;
}

/** Which part carries the signature: the assertion (as Okta and Entra do), the whole response (Keycloak's default), or none. */
export type SignedPart = "assertion" | "response" | "none";

/** How long an assertion made by the development IdP may be presented: enough for the browser's one POST. */
export const ASSERTION_LIFETIME_MS = 5 * 60_000;

/** A signed SAML 2.0 Response (base64, for the HTTP-POST binding). */
export function buildSamlResponse(content: AssertionContent, signer: Signer, signed: SignedPart = "assertion"): string {
  const now = new Date(content.notBefore.getTime());
  const assertionId = content.assertionId ?? newId();
  const attributes = Object.entries(content.attributes)
    .map(([name, value]) => `<saml:Attribute Name="${escapeXml(name)}" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified">${[value].flat().map((v) => `<saml:AttributeValue xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="xs:string">${escapeXml(v)}</saml:AttributeValue>`).join("")}</saml:Attribute>`)
    .join("");
  const at = (d: Date) => d.toISOString();
  const assertion =
    `<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="${assertionId}" Version="2.0" IssueInstant="${at(now)}">` +
    `<saml:Issuer>${escapeXml(content.issuer)}</saml:Issuer>` +
    `<saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress">${escapeXml(content.nameId)}</saml:NameID>` +
    `<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData InResponseTo="${escapeXml(content.inResponseTo)}" NotOnOrAfter="${at(content.notOnOrAfter)}" Recipient="${escapeXml(content.recipient)}"/></saml:SubjectConfirmation></saml:Subject>` +
    `<saml:Conditions NotBefore="${at(content.notBefore)}" NotOnOrAfter="${at(content.notOnOrAfter)}"><saml:AudienceRestriction><saml:Audience>${escapeXml(content.audience)}</saml:Audience></saml:AudienceRestriction></saml:Conditions>` +
    `<saml:AuthnStatement AuthnInstant="${at(content.authnInstant ?? now)}" SessionIndex="${assertionId}"><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>` +
    (attributes ? `<saml:AttributeStatement>${attributes}</saml:AttributeStatement>` : "") +
    `</saml:Assertion>`;
  const response =
    `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="${newId()}" Version="2.0" IssueInstant="${at(now)}" Destination="${escapeXml(content.recipient)}" InResponseTo="${escapeXml(content.inResponseTo)}">` +
    `<saml:Issuer>${escapeXml(content.issuer)}</saml:Issuer>` +
    `<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>` +
    assertion +
    `</samlp:Response>`;
  const xml = signed === "none" ? response : sign(response, signer, signed === "assertion" ? "Assertion" : "Response");
  return Buffer.from(xml, "utf8").toString("base64");
}

/** An enveloped signature placed after the element's Issuer, where the SAML schema wants it. */
function sign(xml: string, signer: Signer, element: "Assertion" | "Response"): string {
  const sig = new SignedXml({
    privateKey: signer.privateKey,
    publicCert: signer.cert,
    signatureAlgorithm: "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
    canonicalizationAlgorithm: "http://www.w3.org/2001/10/xml-exc-c14n#",
  });
  const target = `/*[local-name(.)='Response']${element === "Assertion" ? "/*[local-name(.)='Assertion']" : ""}`;
  sig.addReference({
    xpath: target,
    transforms: ["http://www.w3.org/2000/09/xmldsig#enveloped-signature", "http://www.w3.org/2001/10/xml-exc-c14n#"],
    digestAlgorithm: "http://www.w3.org/2001/04/xmlenc#sha256",
  });
  sig.computeSignature(xml, { location: { reference: `${target}/*[local-name(.)='Issuer']`, action: "after" } });
  return sig.getSignedXml();
}

/** XML ids must not start with a digit. */
function newId(): string {
  return `_${randomBytes(20).toString("hex")}`;
}
