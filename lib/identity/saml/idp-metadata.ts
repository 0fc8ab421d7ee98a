import fs from "node:fs";
import { elements, NS, parseXml } from "./xml";

/** What Airlock needs of an IdP's metadata: who it is, where to send people, which keys sign. */
export interface IdpMetadata {
  entityId: string;
  /** SingleSignOnService locations by binding; at least one is present. */
  sso: { redirect?: string; post?: string };
  /** Signing certificates (base64 DER), all trusted: during a key rollover IdPs list two. */
  signingCerts: string[];
  /** The IdP asks for signed AuthnRequests. */
  wantsSignedRequests: boolean;
}

const BINDINGS = {
  redirect: "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect",
  post: "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST",
} as const;
/** Metadata of one IdP is a few KiB; a federation's aggregate of thousands is not what this reads. */
export const MAX_METADATA_BYTES = 1024 * 1024;
const FETCH_TIMEOUT_MS = 10_000;
const LOOPBACK = new Set(["127.0.0.1", "[::1]", "localhost"]);

export class IdpMetadataError extends Error {}

/** SAML_IDP_METADATA: fetched when a URL, read when a file. */
export async function readIdpMetadataSource(source: string): Promise<string> {
  if (!/^https?:\/\//.test(source)) {
    if (!fs.existsSync(source)) throw new IdpMetadataError(`SAML_IDP_METADATA: no file at ${source}`);
    return fs.readFileSync(source, "utf8");
  }
  // The metadata names the keys Airlock trusts: fetched in plain text, anyone on the path could
  // name theirs. So https only (loopback excepted), and no redirect that could lead off it.
  const url = new URL(source);
  if (url.protocol !== "https:" && !LOOPBACK.has(url.hostname)) throw new IdpMetadataError(`SAML_IDP_METADATA: ${source} must be an https:// URL (or a file)`);
  let res: Response;
  try {
    res = await fetch(source, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS), redirect: "error" });
  } catch (err) {
    throw new IdpMetadataError(`SAML_IDP_METADATA: ${source} could not be fetched (${err instanceof Error ? err.message : err})`);
  }
  const text = await res.text();
  if (!res.ok) throw new IdpMetadataError(`SAML_IDP_METADATA: ${source} answered HTTP ${res.status}`);
  return text;
}

/** Reads one IdP's metadata; any gap is an error that says what is missing. */
export function parseIdpMetadata(xml: string): IdpMetadata {
  if (Buffer.byteLength(xml) > MAX_METADATA_BYTES) throw new IdpMetadataError(`the IdP metadata is over ${MAX_METADATA_BYTES} bytes`);
  let doc: Document;
  try {
    doc = parseXml(xml, "the IdP metadata");
  } catch (err) {
    throw new IdpMetadataError((err as Error).message);
  }
  const descriptors = elements(doc.documentElement, NS.metadata, "IDPSSODescriptor");
  if (descriptors.length !== 1) throw new IdpMetadataError(`the IdP metadata must describe one IdP (IDPSSODescriptor), found ${descriptors.length}`);
  const idp = descriptors[0];
  const entity = idp.parentNode as Element | null;
  const entityId = entity?.getAttribute("entityID") ?? "";
  if (!entityId) throw new IdpMetadataError("the IdP metadata has no entityID");

  const sso: IdpMetadata["sso"] = {};
  for (const service of elements(idp, NS.metadata, "SingleSignOnService")) {
    const location = service.getAttribute("Location") ?? "";
    for (const [name, binding] of Object.entries(BINDINGS) as [keyof typeof BINDINGS, string][]) {
      if (service.getAttribute("Binding") === binding && location && !sso[name]) sso[name] = location;
    }
  }
  if (!sso.redirect && !sso.post) throw new IdpMetadataError("the IdP metadata has no SingleSignOnService with the HTTP-Redirect or HTTP-POST binding");

  const signingCerts = elements(idp, NS.metadata, "KeyDescriptor")
    .filter((key) => (key.getAttribute("use") || "signing") === "signing")
    .flatMap((key) => elements(key, NS.dsig, "X509Certificate"))
    .map((cert) => (cert.textContent ?? "").replace(/\s+/g, ""))
    .filter(Boolean);
  if (signingCerts.length === 0) throw new IdpMetadataError("the IdP metadata has no signing certificate (KeyDescriptor use=\"signing\" with an X509Certificate)");

  return { entityId, sso, signingCerts: [...new Set(signingCerts)], wantsSignedRequests: idp.getAttribute("WantAuthnRequestsSigned") === "true" };
}
