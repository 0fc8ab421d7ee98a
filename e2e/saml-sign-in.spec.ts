import path from "node:path";
import { inflateRawSync } from "node:zlib";
import { DOMParser } from "@xmldom/xmldom";
import Database from "better-sqlite3";
import { expect, test } from "@playwright/test";
import { STORE_FILE } from "../lib/db/client";
import { startAirlock, type RunningAirlock } from "../test/support/airlock-server";
import { signInWithSaml } from "./pages/saml-sign-in";

/**
 * People sign in with SAML through the development SAML IdP (SAML_IDP_METADATA=dev), beside the
 * development OIDC IdP: the session is the one OIDC gives, so roles come from the same mapping.
 */
test.describe.configure({ mode: "serial" });
let airlock: RunningAirlock;

test.beforeAll(async () => {
  test.setTimeout(180_000);
  airlock = await startAirlock({ env: { SAML_IDP_METADATA: "dev" } });
});

test.afterEach(async ({}, testInfo) => {
  if (testInfo.status !== testInfo.expectedStatus) await testInfo.attach("airlock output", { body: airlock.output(), contentType: "text/plain" });
});

test.afterAll(async () => {
  await airlock?.stop();
});

for (const { email, role } of [
  { email: "alice@example.com", role: "approver" },
  { email: "carol@example.com", role: "viewer" },
]) {
  test(`${email} signs in with SAML and is ${role}`, async ({ page }) => {
    await signInWithSaml(page, airlock.url, email);
    await page.waitForURL((url) => url.pathname === "/");
    const who = page.getByTestId("current-person");
    await expect(who).toContainText(email);
    await expect(who.getByTestId("role")).toHaveText(role);
    const session = await (await page.request.get(`${airlock.url}/api/auth/session`)).json();
    expect(session.user).toMatchObject({ email, role, identity: { issuer: `${airlock.url}/saml-idp/metadata`, subject: email } });
  });
}

test("a SAML session keeps when the IdP says the person authenticated (step-up); fresh=1 asks the IdP for a new authentication", async ({ page }) => {
  const before = Math.floor(Date.now() / 1000);
  await signInWithSaml(page, airlock.url, "alice@example.com");
  await page.waitForURL((url) => url.pathname === "/");
  const { user } = await (await page.request.get(`${airlock.url}/api/auth/session`)).json();
  expect(user.signIn.method).toBe("saml");
  expect(user.signIn.authTime).toBeGreaterThanOrEqual(before - 1);
  expect(user.signIn.authTime).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000));
  // "Sign in again to decide" on a step-up request starts here.
  const again = await page.request.get(`${airlock.url}/api/auth/saml/login?${new URLSearchParams({ next: "/requests/r_0a1b", fresh: "1" })}`, { maxRedirects: 0 });
  expect(again.status()).toBe(303);
  const location = new URL(again.headers().location);
  expect(location.searchParams.get("RelayState")).toBe("/requests/r_0a1b");
  expect(inflateRawSync(Buffer.from(location.searchParams.get("SAMLRequest")!, "base64")).toString()).toContain('ForceAuthn="true"');
});

test("the sign-in page offers both OIDC and SAML", async ({ page }) => {
  await page.goto(`${airlock.url}/signin`);
  await expect(page.getByRole("button", { name: "Sign in with the development IdP" })).toBeVisible();
  await expect(page.getByRole("link", { name: "Sign in with the development SAML IdP" })).toBeVisible();
});

test("a response changed on its way (carol's group made airlock-admins) is refused, and no session is made", async ({ page }) => {
  await page.route(`${airlock.url}/api/auth/saml/acs`, async (route) => {
    const form = new URLSearchParams(route.request().postData() ?? "");
    const xml = Buffer.from(form.get("SAMLResponse")!, "base64").toString("utf8");
    form.set("SAMLResponse", Buffer.from(xml.replace(">engineering<", ">airlock-admins<")).toString("base64"));
    await route.continue({ postData: form.toString() });
  });
  await signInWithSaml(page, airlock.url, "carol@example.com");
  await page.waitForURL(/\/signin\?/);
  await expect(page.locator(".alert")).toHaveText(/SAML sign-in was refused: the signature is not the identity provider's/);
  expect(await (await page.request.get(`${airlock.url}/api/auth/session`)).json()).toBeNull();
  expect(airlock.output()).toMatch(/SAML sign-in refused: the signature is not the identity provider's.*code=signature/);
  // The refusal is in the audit log, as a refused sign-in, with its reason.
  await expect.poll(() => refusedSignIns().some((data) => data.code === "signature" && data.method === "saml"), { timeout: 10_000 }).toBe(true);
});

/** The audit log's refused sign-ins, read from the store as `airlock audit` would. */
function refusedSignIns(): { method?: string; code?: string; reason?: string }[] {
  const db = new Database(path.join(airlock.dataDir, STORE_FILE), { readonly: true });
  try {
    const rows = db.prepare("select data from audit_log where type = 'person.sign_in_refused'").all() as { data: string }[];
    return rows.map((r) => JSON.parse(r.data));
  } finally {
    db.close();
  }
}

test("a response posted again after its sign-in is refused", async ({ page, browser }) => {
  let posted = "";
  await page.route(`${airlock.url}/api/auth/saml/acs`, async (route) => {
    posted = route.request().postData() ?? "";
    await route.continue();
  });
  await signInWithSaml(page, airlock.url, "alice@example.com");
  await page.waitForURL((url) => url.pathname === "/");
  // Another browser replays it, as someone who copied it from the first would.
  const other = await browser.newPage();
  const replay = await other.request.post(`${airlock.url}/api/auth/saml/acs`, { headers: { "content-type": "application/x-www-form-urlencoded" }, data: posted, maxRedirects: 0 });
  expect(replay.status()).toBe(303);
  expect(replay.headers().location).toContain("code=saml_request");
  expect(await (await other.request.get(`${airlock.url}/api/auth/session`)).json()).toBeNull();
  await other.close();
});

test("Airlock's SP metadata is served as XML naming its entity id and ACS URL", async ({ request }) => {
  const res = await request.get(`${airlock.url}/api/auth/saml/metadata`);
  expect(res.status()).toBe(200);
  expect(res.headers()["content-type"]).toContain("application/samlmetadata+xml");
  const errors: string[] = [];
  const doc = new DOMParser({ errorHandler: { error: (m) => errors.push(m), fatalError: (m) => errors.push(m) } }).parseFromString(await res.text(), "text/xml");
  expect(errors).toEqual([]);
  const md = "urn:oasis:names:tc:SAML:2.0:metadata";
  expect(doc.documentElement?.getAttribute("entityID")).toBe(`${airlock.url}/api/auth/saml/metadata`);
  const acs = doc.getElementsByTagNameNS(md, "AssertionConsumerService")[0];
  expect(acs?.getAttribute("Location")).toBe(`${airlock.url}/api/auth/saml/acs`);
  expect(acs?.getAttribute("Binding")).toBe("urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST");
});
