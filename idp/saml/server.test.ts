import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { parseIdpMetadata } from "../../lib/identity/saml/idp-metadata";
import { OneTimeValues } from "../../lib/identity/saml/one-time";
import { SamlServiceProvider } from "../../lib/identity/saml/service-provider";
import { openTestStore, type TestStore } from "../../test/support/store";
import { createSamlIdpKey } from "./keys";
import { createDevSamlIdp, type DevSamlIdp } from "./server";

/** The development SAML IdP over HTTP, answering Airlock's SP as Airlock runs them together. */
let http: Server;
let base: string;
let idp: DevSamlIdp;
let store: TestStore;
const key = createSamlIdpKey();

before(async () => {
  store = await openTestStore();
  http = createServer((req, res) => idp.handle(req, res));
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  idp = createDevSamlIdp({ publicUrl: base, sp: { entityId: `${base}/api/auth/saml/metadata`, acsUrl: `${base}/api/auth/saml/acs` }, key });
});
after(async () => {
  http.close();
  await store.close();
});

function serviceProvider(entityId = `${base}/api/auth/saml/metadata`, acsUrl = `${base}/api/auth/saml/acs`): SamlServiceProvider {
  return new SamlServiceProvider({ entityId, acsUrl, attributes: { email: "email", name: "name", groups: "groups" }, binding: "redirect" }, parseIdpMetadata(idp.metadata), new OneTimeValues(store.store));
}

/** The IdP's form, filled in, as the browser would post it after following the SP's redirect. */
async function logIn(sp: SamlServiceProvider, email: string, password: string) {
  const start = await sp.startLogin("/");
  assert.ok("redirect" in start);
  const query = new URL(start.redirect).searchParams;
  const res = await fetch(`${base}/saml-idp/login`, {
    method: "POST",
    body: new URLSearchParams({ SAMLRequest: query.get("SAMLRequest")!, RelayState: "/", binding: "redirect", email, password }),
  });
  return { start, status: res.status, html: await res.text() };
}

test("its metadata is served and reads as an IdP's", async () => {
  const res = await fetch(`${base}/saml-idp/metadata`);
  assert.equal(res.status, 200);
  assert.equal(parseIdpMetadata(await res.text()).entityId, `${base}/saml-idp/metadata`);
});

test("the sign-in form is shown for Airlock's AuthnRequest", async () => {
  const start = await serviceProvider().startLogin("/");
  assert.ok("redirect" in start);
  const res = await fetch(start.redirect);
  assert.equal(res.status, 200);
  assert.match(await res.text(), /name="SAMLRequest"/);
});

test("a seeded person's sign-in posts an assertion to Airlock's ACS that Airlock accepts", async () => {
  const sp = serviceProvider();
  const { start, status, html } = await logIn(sp, "carol@example.com", "airlock-dev");
  assert.equal(status, 200);
  assert.match(html, new RegExp(`action="${base}/api/auth/saml/acs"`));
  const samlResponse = /name="SAMLResponse" value="([^"]+)"/.exec(html)![1];
  const person = await sp.verify(samlResponse, start.requestId);
  assert.deepEqual({ email: person.email, groups: person.groups }, { email: "carol@example.com", groups: ["engineering"] });
});

test("a wrong password gets the form again, and no assertion", async () => {
  const { status, html } = await logIn(serviceProvider(), "alice@example.com", "wrong");
  assert.equal(status, 401);
  assert.doesNotMatch(html, /SAMLResponse/);
});

test("another service provider's request, or one asking for another ACS URL, gets no assertion", async () => {
  for (const sp of [serviceProvider("https://other.example.test/sp"), serviceProvider(undefined, "https://other.example.test/acs")]) {
    const { status, html } = await logIn(sp, "alice@example.com", "airlock-dev");
    assert.equal(status, 400);
    assert.doesNotMatch(html, /SAMLResponse/);
  }
});
