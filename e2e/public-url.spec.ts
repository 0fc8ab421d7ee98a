import { expect, test } from "@playwright/test";
import { freePort } from "../test/support/postgres";
import { startAirlock, type RunningAirlock } from "../test/support/airlock-server";
import { IdpSignInPage } from "./pages/idp-sign-in-page";
import { watchForViolations } from "./support/csp";

/**
 * Sign-in under the address AIRLOCK_PUBLIC_URL names, not the one Airlock listens on: the loopback
 * IP (which Next.js calls `localhost` internally) and a real host name, which only this browser
 * resolves (to 127.0.0.1) — the server itself cannot, so it must not need to.
 */
const HOST_NAME = "airlock.test";

test.use({
  launchOptions: {
    executablePath: "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--no-first-run", `--host-resolver-rules=MAP ${HOST_NAME} 127.0.0.1`],
  },
});

const addresses = [
  { name: "the loopback IP", host: "127.0.0.1" },
  { name: "a host name", host: HOST_NAME },
];

const people = [
  { email: "alice@example.com", role: "approver" },
  { email: "carol@example.com", role: "viewer" },
];

for (const { name, host } of addresses) {
  test.describe(`public URL on ${name}`, () => {
    test.describe.configure({ mode: "serial" });
    let airlock: RunningAirlock;
    let publicUrl: string;

    test.beforeAll(async () => {
      test.setTimeout(180_000);
      // The public URL names the port, so it is chosen before the start rather than by AIRLOCK_PORT=0.
      const port = await freePort();
      publicUrl = `http://${host}:${port}`;
      airlock = await startAirlock({ env: { AIRLOCK_PORT: String(port), AIRLOCK_PUBLIC_URL: publicUrl } });
    });

    test.afterAll(async () => {
      await airlock?.stop();
    });

    for (const { email, role } of people) {
      test(`${email} signs in and is shown as ${role}`, async ({ page }) => {
        const problems = watchForViolations(page);
        await page.goto(`${publicUrl}/`);
        await expect(page).toHaveURL(`${publicUrl}/signin`);
        await page.getByRole("button", { name: /sign in/i }).click();
        await expect(page).toHaveURL(new RegExp(`^${escape(publicUrl)}/oidc/interaction/`));
        await new IdpSignInPage(page).signIn(email);

        await page.waitForURL(`${publicUrl}/`);
        const who = page.getByTestId("current-person");
        await expect(who).toContainText(email);
        await expect(who.getByTestId("role")).toHaveText(role);
        await expect(page.getByRole("heading", { level: 1, name: "Requests" })).toBeVisible();

        const session = (await page.context().cookies(publicUrl)).find((c) => c.name === "authjs.session-token");
        expect(session).toMatchObject({ domain: host, httpOnly: true, sameSite: "Lax", secure: false });
        expect(await problems()).toEqual([]);
      });
    }
  });
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
