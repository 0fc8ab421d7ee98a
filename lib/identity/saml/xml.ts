import { DOMParser } from "@xmldom/xmldom";

export const NS = {
  metadata: "urn:oasis:names:tc:SAML:2.0:metadata",
  assertion: "urn:oasis:names:tc:SAML:2.0:assertion",
  protocol: "urn:oasis:names:tc:SAML:2.0:protocol",
  dsig: "http://www.w3.org/2000/09/xmldsig#",
} as const;

/**
 * Parses XML, refusing what xmldom only warns about being broken. xmldom resolves no external
 * entities and fetches nothing, so a document cannot make Airlock read files or call out.
 */
export function parseXml(xml: string, what: string): Document {
  const problems: string[] = [];
  const record = (message: unknown) => void problems.push(String(message));
  const doc = new DOMParser({ errorHandler: { error: record, fatalError: record } }).parseFromString(xml, "text/xml");
  if (problems.length > 0 || !doc?.documentElement) throw new Error(`${what} is not well-formed XML: ${problems[0] ?? "empty"}`);
  return doc;
}

/** Descendants of `parent` by namespace and local name, in document order. */
export function elements(parent: Element | Document, ns: string, name: string): Element[] {
  return Array.from(parent.getElementsByTagNameNS(ns, name) as unknown as ArrayLike<Element>);
}
