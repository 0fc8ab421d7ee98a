import fs from "node:fs";
import path from "node:path";
import { expect, test } from "@playwright/test";
import { createSamlIdpKey } from "../idp/saml/keys";
import { idpMetadataXml } from "../idp/saml/metadata";
import { startAirlock, type RunningAirlock } from "../test/support/airlock-server";
import { makeTempDir } from "../test/support/temp-dir";

/**
 * A company SAML IdP and no OIDC_ISSUER: the development OIDC IdP, whose seeded people share a
 * published password, must not be a way in. SAML is the only sign-in offered or accepted.
 */
test.describe.configure({ mode: "serial" });
let airlock: RunningAirlock;
const dir = makeTempDir("saml-only");

test.beforeAll(async () => {
  test.setTimeout(180_000);
  const metadata = path.join(dir.path, "idp-metadata.xml");
  fs.writeFileSync(metadata, idpMetadataXml("https://idp.example.test/metadata", "https://idp.example.test/sso", createSamlIdpKey().cert));
  airlock = await startAirlock({ env: { SAML_IDP_METADATA: metadata } });
});

test.afterAll(async () => {
  await airlock?.stop();
  dir.remove();
});

test("the sign-in page offers SAML only, with no seeded people or password", async ({ page }) => {
  await page.goto(`${airlock.url}/signin`);
  await expect(page.getByRole("link", { name: "Sign in with SAML" })).toBeVisible();
  await expect(page.getByRole("button", { name: /sign in/i })).toHaveCount(0);
  await expect(page.getByText("airlock-dev")).toHaveCount(0);
});

test("next-auth has no OIDC provider to start a sign-in with", async ({ request }) => {
  const providers = await (await request.get(`${airlock.url}/api/auth/providers`)).json();
  expect(Object.keys(providers)).toEqual(["saml"]);
});

test("the SAML sign-in goes to the company IdP with an AuthnRequest", async ({ request }) => {
  const res = await request.get(`${airlock.url}/api/auth/saml/login?next=/requests`, { maxRedirects: 0 });
  expect(res.status()).toBe(303);
  const location = new URL(res.headers().location);
  expect(`${location.origin}${location.pathname}`).toBe("https://idp.example.test/sso");
  expect(location.searchParams.get("SAMLRequest")).toBeTruthy();
  expect(location.searchParams.get("RelayState")).toBe("/requests");
  expect(res.headers()["set-cookie"]).toMatch(/^airlock\.saml-request=_[0-9a-f]+; Max-Age=600; Path=\/api\/auth\/saml; HttpOnly; SameSite=Lax/);
});
