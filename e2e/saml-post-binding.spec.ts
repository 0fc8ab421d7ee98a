import { expect, test } from "@playwright/test";
import { startAirlock, type RunningAirlock } from "../test/support/airlock-server";
import { signInWithSaml } from "./pages/saml-sign-in";
import { watchForViolations } from "./support/csp";

/**
 * The AuthnRequest by HTTP-POST (SAML_AUTHN_REQUEST_BINDING=post): Airlock's page posts it to
 * the IdP by itself, its one script admitted by the page's own policy, with no violation.
 */
test.describe.configure({ mode: "serial" });
let airlock: RunningAirlock;

test.beforeAll(async () => {
  test.setTimeout(180_000);
  airlock = await startAirlock({ env: { SAML_IDP_METADATA: "dev", SAML_AUTHN_REQUEST_BINDING: "post" } });
});

test.afterAll(async () => {
  await airlock?.stop();
});

test("alice signs in with the AuthnRequest posted to the IdP", async ({ page }) => {
  const violations = watchForViolations(page);
  let posted = false;
  page.on("request", (req) => void (req.method() === "POST" && req.url().endsWith("/saml-idp/sso") && (posted = true)));
  await signInWithSaml(page, airlock.url, "alice@example.com");
  await page.waitForURL((url) => url.pathname === "/");
  await expect(page.getByTestId("current-person").getByTestId("role")).toHaveText("approver");
  expect(posted).toBe(true);
  expect(await violations()).toEqual([]);
});
