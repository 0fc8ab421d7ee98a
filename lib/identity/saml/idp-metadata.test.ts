import { test } from "node:test";
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { createSamlIdpKey } from "../../../idp/saml/keys";
import { idpMetadataXml } from "../../../idp/saml/metadata";
import { IdpMetadataError, MAX_METADATA_BYTES, parseIdpMetadata, readIdpMetadataSource } from "./idp-metadata";

const key = createSamlIdpKey();

test("the development IdP's metadata reads as any IdP's: entity id, both bindings, its certificate", () => {
  const idp = parseIdpMetadata(idpMetadataXml("https://idp.test/metadata", "https://idp.test/sso", key.cert));
  assert.equal(idp.entityId, "https://idp.test/metadata");
  assert.deepEqual(idp.sso, { redirect: "https://idp.test/sso", post: "https://idp.test/sso" });
  assert.equal(idp.wantsSignedRequests, false);
  assert.equal(idp.signingCerts.length, 1);
  // The self-signed certificate is a real one, signed by the key it names.
  const cert = new X509Certificate(Buffer.from(idp.signingCerts[0], "base64"));
  assert.ok(cert.verify(cert.publicKey));
  assert.match(cert.subject, /Airlock development SAML IdP/);
});

const ENTITY = (inner: string) =>
  `<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="https://idp.test"><md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">${inner}</md:IDPSSODescriptor></md:EntityDescriptor>`;
const SSO = `<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://idp.test/sso"/>`;
const KEY = (use: string) => `<md:KeyDescriptor ${use}><ds:KeyInfo><ds:X509Data><ds:X509Certificate>MIIB</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>`;

const broken: { name: string; xml: string; message: RegExp }[] = [
  { name: "not XML", xml: "<md:EntityDescriptor", message: /not well-formed/ },
  { name: "an SP's metadata", xml: `<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="x"><md:SPSSODescriptor/></md:EntityDescriptor>`, message: /found 0/ },
  { name: "no sign-in endpoint", xml: ENTITY(KEY('use="signing"')), message: /no SingleSignOnService/ },
  { name: "only an encryption key", xml: ENTITY(KEY('use="encryption"') + SSO), message: /no signing certificate/ },
];
for (const { name, xml, message } of broken) {
  test(`metadata with ${name} is refused, saying what is missing`, () => {
    assert.throws(() => parseIdpMetadata(xml), (err: unknown) => err instanceof IdpMetadataError && message.test(err.message));
  });
}

test("a key with no use is a signing key; WantAuthnRequestsSigned is read", () => {
  const idp = parseIdpMetadata(ENTITY(KEY("") + SSO).replace("protocolSupportEnumeration", 'WantAuthnRequestsSigned="true" protocolSupportEnumeration'));
  assert.deepEqual(idp.signingCerts, ["MIIB"]);
  assert.deepEqual(idp.sso, { post: "https://idp.test/sso" });
  assert.equal(idp.wantsSignedRequests, true);
});

test("metadata over MAX_METADATA_BYTES is refused before it is parsed", () => {
  const big = ENTITY(KEY("") + SSO + `<!--${"x".repeat(MAX_METADATA_BYTES)}-->`);
  assert.throws(() => parseIdpMetadata(big), (err: unknown) => err instanceof IdpMetadataError && /over \d+ bytes/.test(err.message));
});

test("metadata is fetched over https only (loopback excepted): in plain text anyone on the path could name their own key", async () => {
  await assert.rejects(readIdpMetadataSource("http://idp.example.com/metadata"), (err: unknown) => err instanceof IdpMetadataError && /must be an https:\/\/ URL/.test(err.message));
  await assert.rejects(readIdpMetadataSource("/no/such/metadata.xml"), (err: unknown) => err instanceof IdpMetadataError && /no file at/.test(err.message));
});
