import { inflateRawSync } from "node:zlib";
import { elements, NS, parseXml } from "../../lib/identity/saml/xml";

/** What the development IdP reads of an AuthnRequest. */
export interface AuthnRequest {
  id: string;
  issuer: string;
  /** Absent: the SP's registered ACS URL is used. */
  acsUrl: string | undefined;
}

const MAX_REQUEST_BYTES = 64 * 1024;

/** `SAMLRequest` as sent: deflated and base64 on the HTTP-Redirect binding, base64 alone on HTTP-POST. */
export function readAuthnRequest(samlRequest: string, binding: "redirect" | "post"): AuthnRequest {
  if (samlRequest.length > MAX_REQUEST_BYTES) throw new Error("the AuthnRequest is too large");
  const raw = Buffer.from(samlRequest, "base64");
  const xml = (binding === "redirect" ? inflateRawSync(raw, { maxOutputLength: MAX_REQUEST_BYTES }) : raw).toString("utf8");
  const request = parseXml(xml, "the AuthnRequest").documentElement!;
  if (request.localName !== "AuthnRequest" || request.namespaceURI !== NS.protocol) throw new Error("not an AuthnRequest");
  const id = request.getAttribute("ID");
  const issuer = elements(request, NS.assertion, "Issuer")[0]?.textContent?.trim();
  if (!id || !issuer) throw new Error("the AuthnRequest has no ID or no Issuer");
  return { id, issuer, acsUrl: request.getAttribute("AssertionConsumerServiceURL") || undefined };
}
