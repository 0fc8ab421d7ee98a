import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { inflateRawSync } from "node:zlib";
import { createSamlIdpKey } from "../../../idp/saml/keys";
import { idpMetadataXml } from "../../../idp/saml/metadata";
import { buildSamlResponse, type AssertionContent, type SignedPart } from "../../../idp/saml/response";
import { makeTempDir } from "../../../test/support/temp-dir";
import { openStore, type Store } from "../../db/client";
import { parseIdpMetadata } from "./idp-metadata";
import { elements, NS, parseXml } from "./xml";
import { OneTimeValues } from "./one-time";
import type { SamlRefusalCode } from "./refusal";
import { CLOCK_SKEW_MS, MAX_RESPONSE_BYTES, SamlServiceProvider } from "./service-provider";

const IDP = "https://idp.example.test/metadata";
const SP = "https://airlock.example.test/api/auth/saml/metadata";
const ACS = "https://airlock.example.test/api/auth/saml/acs";
const idpKey = createSamlIdpKey();
const otherKey = createSamlIdpKey("Not the IdP");
const dir = makeTempDir("saml-sp");
let store: Store;

before(async () => {
  store = await openStore({ dataDir: dir.path, migrationsFolder: "drizzle" });
});
after(async () => {
  await store.close();
  dir.remove();
});

/** Each instance its own provider and cache, as separate processes on one store have. */
function serviceProvider(binding: "redirect" | "post" = "redirect", signing?: { privateKey: string; cert: string }): SamlServiceProvider {
  const idp = parseIdpMetadata(idpMetadataXml(IDP, "https://idp.example.test/sso", idpKey.cert));
  return new SamlServiceProvider({ entityId: SP, acsUrl: ACS, attributes: { email: "email", name: "name", groups: "groups" }, binding, signing }, idp, new OneTimeValues(store));
}

/** A sign-in started by this browser, and the IdP's answer to it, changed as a case says. */
async function signIn(sp: SamlServiceProvider, change: Partial<AssertionContent> = {}, opts: { signed?: SignedPart; key?: typeof idpKey } = {}) {
  const start = await sp.startLogin("/");
  const now = Date.now();
  const content: AssertionContent = {
    issuer: IDP,
    inResponseTo: start.requestId,
    recipient: ACS,
    audience: SP,
    nameId: "alice@example.com",
    attributes: { email: "alice@example.com", name: "Alice Approver", groups: ["db-approvers", "engineering"] },
    notBefore: new Date(now),
    notOnOrAfter: new Date(now + 5 * 60_000),
    ...change,
  };
  return { requestId: start.requestId, response: buildSamlResponse(content, opts.key ?? idpKey, opts.signed ?? "assertion") };
}

async function refusal(promise: Promise<unknown>): Promise<SamlRefusalCode> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof Error && err.name === "SamlRefusal", `expected a refusal, got ${String(err)}`);
  return (err as Error & { code: SamlRefusalCode }).code;
}

/** Re-encodes a response after changing its XML: what an attacker in the middle would do. */
function tamper(response: string, from: string | RegExp, to: string): string {
  const xml = Buffer.from(response, "base64").toString("utf8");
  const changed = xml.replace(from, to);
  assert.notEqual(changed, xml, "the tampering changed nothing");
  return Buffer.from(changed).toString("base64");
}

describe("a SAML response signs a person in", () => {
  for (const signed of ["assertion", "response"] as const) {
    test(`with the ${signed} signed by the IdP: email, name, groups and identity from the assertion`, async () => {
      const sp = serviceProvider();
      const { requestId, response } = await signIn(sp, {}, { signed });
      const { authnInstant, ...person } = await sp.verify(response, requestId);
      assert.deepEqual(person, { email: "alice@example.com", name: "Alice Approver", groups: ["db-approvers", "engineering"], issuer: IDP, subject: "alice@example.com" });
      assert.ok(authnInstant instanceof Date, "and when they authenticated (step-up)");
    });
  }

  test("the AuthnRequest goes by redirect, deflated, naming Airlock and its ACS URL", async () => {
    const start = await serviceProvider().startLogin("/requests");
    assert.ok("redirect" in start);
    const url = new URL(start.redirect);
    assert.equal(url.searchParams.get("RelayState"), "/requests");
    const xml = inflateRawSync(Buffer.from(url.searchParams.get("SAMLRequest")!, "base64")).toString();
    assert.match(xml, new RegExp(`ID="${start.requestId}"`));
    assert.match(xml, new RegExp(`AssertionConsumerServiceURL="${ACS}"`));
    assert.match(xml, new RegExp(`<saml:Issuer[^>]*>${SP}</saml:Issuer>`));
  });
});

describe("the AuthnRequest by HTTP-POST, signed with Airlock's key", () => {
  test("carries the request and a signature the SP's certificate verifies", async () => {
    const spKey = createSamlIdpKey("Airlock SP");
    const start = await serviceProvider("post", spKey).startLogin("/");
    assert.ok("post" in start);
    assert.equal(start.post.url, "https://idp.example.test/sso");
    const xml = Buffer.from(start.post.fields.SAMLRequest, "base64").toString();
    assert.match(xml, new RegExp(`ID="${start.requestId}"`));
    assert.match(xml, /<(ds:)?SignatureValue>/);
    assert.equal(start.post.fields.RelayState, "/");
  });
});

describe("Airlock's SP metadata", () => {
  test("is well-formed XML naming the entity id and the ACS URL, and asks for signed assertions", () => {
    const doc = parseXml(serviceProvider().metadata(), "the SP metadata");
    assert.equal(doc.documentElement!.getAttribute("entityID"), SP);
    const sp = elements(doc, NS.metadata, "SPSSODescriptor")[0];
    assert.equal(sp.getAttribute("WantAssertionsSigned"), "true");
    const acs = elements(sp, NS.metadata, "AssertionConsumerService")[0];
    assert.equal(acs.getAttribute("Location"), ACS);
    assert.equal(acs.getAttribute("Binding"), "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST");
    assert.equal(elements(sp, NS.metadata, "KeyDescriptor").length, 0);
  });

  test("with Airlock's own key, publishes its certificate for signed AuthnRequests", () => {
    const spKey = createSamlIdpKey("Airlock SP");
    const xml = serviceProvider("redirect", spKey).metadata();
    // The key is handed to node-saml for this; nothing of it may reach the published document.
    assert.ok(!xml.includes(spKey.privateKey.split("\n")[1]));
    const doc = parseXml(xml, "the SP metadata");
    const sp = elements(doc, NS.metadata, "SPSSODescriptor")[0];
    assert.equal(sp.getAttribute("AuthnRequestsSigned"), "true");
    const cert = elements(sp, NS.dsig, "X509Certificate")[0]?.textContent?.replace(/\s+/g, "");
    assert.equal(cert, spKey.cert.replace(/-----[^-]+-----|\s+/g, ""));
  });
});

describe("a SAML response is refused, with its reason", () => {
  const cases: { name: string; code: SamlRefusalCode; make(sp: SamlServiceProvider): Promise<{ response: string; requestId: string | undefined }> }[] = [
    { name: "unsigned", code: "unsigned", make: (sp) => signIn(sp, {}, { signed: "none" }) },
    { name: "signed with another key", code: "signature", make: (sp) => signIn(sp, {}, { key: otherKey }) },
    { name: "response signed with another key", code: "signature", make: (sp) => signIn(sp, {}, { key: otherKey, signed: "response" }) },
    {
      name: "expired (past NotOnOrAfter and the clock skew)",
      code: "expired",
      make: (sp) => signIn(sp, { notBefore: new Date(Date.now() - 10 * 60_000), notOnOrAfter: new Date(Date.now() - CLOCK_SKEW_MS - 1000) }),
    },
    { name: "not yet valid (NotBefore beyond the clock skew)", code: "expired", make: (sp) => signIn(sp, { notBefore: new Date(Date.now() + CLOCK_SKEW_MS + 60_000), notOnOrAfter: new Date(Date.now() + 10 * 60_000) }) },
    { name: "for another audience", code: "audience", make: (sp) => signIn(sp, { audience: "https://other-sp.example.test" }) },
    {
      name: "for another recipient (an assertion made for another service's ACS)",
      code: "recipient",
      make: async (sp) => {
        const { requestId, response } = await signIn(sp, { recipient: "https://other-sp.example.test/acs" });
        // The unsigned Destination put right: only the signed Recipient is left wrong.
        return { requestId, response: tamper(response, 'Destination="https://other-sp.example.test/acs"', `Destination="${ACS}"`) };
      },
    },
    {
      name: "tampered: a group added after signing",
      code: "signature",
      make: async (sp) => {
        const { requestId, response } = await signIn(sp, { attributes: { email: "carol@example.com", groups: ["engineering"] }, nameId: "carol@example.com" });
        return { requestId, response: tamper(response, ">engineering<", ">airlock-admins<") };
      },
    },
    {
      name: "tampered: the whole-response signature kept while the email changes",
      code: "signature",
      make: async (sp) => {
        const { requestId, response } = await signIn(sp, {}, { signed: "response" });
        return { requestId, response: tamper(response, />alice@example.com</g, ">admin@example.com<") };
      },
    },
    { name: "answering a request this browser did not start", code: "request", make: async (sp) => ({ ...(await signIn(sp)), requestId: "_someone-elses-request" }) },
    { name: "with no request cookie at all", code: "request", make: async (sp) => ({ ...(await signIn(sp)), requestId: undefined }) },
    {
      name: "answering a request Airlock never sent (InResponseTo unknown to the store)",
      code: "request",
      make: async (sp) => {
        const { response } = await signIn(sp, { inResponseTo: "_forged" });
        return { requestId: "_forged", response };
      },
    },
    { name: "from another issuer", code: "issuer", make: (sp) => signIn(sp, { issuer: "https://evil.example.test" }) },
    { name: "over MAX_RESPONSE_BYTES", code: "malformed", make: async () => ({ requestId: "_x", response: "A".repeat(MAX_RESPONSE_BYTES + 1) }) },
    { name: "not XML", code: "malformed", make: async () => ({ requestId: "_x", response: Buffer.from("<not").toString("base64") }) },
  ];
  for (const c of cases) {
    test(`${c.name}: ${c.code}`, async () => {
      const sp = serviceProvider();
      const { response, requestId } = await c.make(sp);
      assert.equal(await refusal(sp.verify(response, requestId)), c.code);
    });
  }

  test("replayed: the same response again, on this instance or another on the store", async () => {
    const first = serviceProvider();
    const { requestId, response } = await signIn(first);
    await first.verify(response, requestId);
    // Its request was answered: the request id is used up, here and on every instance.
    assert.equal(await refusal(first.verify(response, requestId)), "request");
    assert.equal(await refusal(serviceProvider().verify(response, requestId)), "request");
  });

  test("replayed: one assertion answering two requests, the second on another instance", async () => {
    const one = await signIn(serviceProvider(), { assertionId: "_one-assertion" });
    await serviceProvider().verify(one.response, one.requestId);
    const other = serviceProvider();
    const two = await signIn(other, { assertionId: "_one-assertion" });
    assert.equal(await refusal(other.verify(two.response, two.requestId)), "replayed");
  });

  test("a response with nothing signed refuses before anything else is read", async () => {
    const sp = serviceProvider();
    assert.equal(await refusal(sp.verify(Buffer.from("<samlp:Response xmlns:samlp='urn:oasis:names:tc:SAML:2.0:protocol'/>").toString("base64"), "_x")), "unsigned");
  });
});

describe("step-up: when the person authenticated, and a new authentication", () => {
  test("the signed assertion's AuthnInstant comes with the person; one changed after signing is refused", async () => {
    const sp = serviceProvider();
    const earlier = new Date(Math.floor(Date.now() / 1000) * 1000 - 20 * 60_000);
    const old = await signIn(sp, { authnInstant: earlier });
    assert.deepEqual((await sp.verify(old.response, old.requestId)).authnInstant, earlier, "an IdP session's earlier login, as the IdP says");
    const fresh = await signIn(sp);
    const person = await sp.verify(fresh.response, fresh.requestId);
    assert.ok(person.authnInstant && Math.abs(person.authnInstant.getTime() - Date.now()) < 5_000, "a login just now");
    const forged = await signIn(sp, { authnInstant: earlier });
    assert.equal(await refusal(sp.verify(tamper(forged.response, /AuthnInstant="[^"]+"/, `AuthnInstant="${new Date().toISOString()}"`), forged.requestId)), "signature");
  });

  test("forceAuthn asks the IdP for a new authentication (ForceAuthn); an ordinary sign-in does not", async () => {
    const requestXml = async (forceAuthn?: boolean) => {
      const start = await serviceProvider().startLogin("/requests/r_1", forceAuthn === undefined ? undefined : { forceAuthn });
      assert.ok("redirect" in start);
      return inflateRawSync(Buffer.from(new URL(start.redirect).searchParams.get("SAMLRequest")!, "base64")).toString();
    };
    assert.match(await requestXml(true), /ForceAuthn="true"/);
    assert.doesNotMatch(await requestXml(), /ForceAuthn/);
    assert.doesNotMatch(await requestXml(false), /ForceAuthn/);
  });
});
