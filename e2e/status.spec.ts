import { expect, test } from "./fixtures";
import { StatusPage } from "./pages/status-page";

test("an admin's status page shows each resource, the store, instances, Slack, the policy and the audit chain as they are", async ({ page, signIn }) => {
  await signIn("admin@example.com");
  const status = new StatusPage(page);
  await status.open();
  await expect(page.getByRole("heading", { level: 1, name: "Status" })).toBeVisible();

  // The demo is embedded (never started by a view); `pg` is the suite's real PostgreSQL, logged in to.
  await expect(status.resource("demo").getByTestId("status-resource-reach")).toContainText("embedded");
  const pg = status.resource("pg");
  await expect(pg.getByTestId("status-resource-reach").locator(".badge")).toHaveText("reachable");
  await expect(pg.getByTestId("status-resource-reach")).toContainText(/login took \d+ (ms|s)/);
  const password = new URL(process.env.AIRLOCK_E2E_PG_URL!).password;
  if (password) await expect(pg).not.toContainText(password);

  await expect(status.fact("status-store-kind")).toHaveText("SQLite file");
  await expect(status.fact("status-store-answering")).toContainText("answering");
  const migrations = await status.fact("status-store-migrations").textContent();
  const [, applied, expected] = /(\d+) of (\d+) migrations applied/.exec(migrations ?? "") ?? [];
  expect(Number(applied)).toBeGreaterThan(0);
  expect(applied).toBe(expected);

  const here = status.instances.filter({ hasText: "this one" });
  await expect(here).toHaveCount(1);
  await expect(here).toContainText("running");

  await expect(status.fact("status-slack-mode")).toContainText("on, over HTTP");
  await expect(status.fact("status-slack-mode")).toContainText("#db-approvals");

  await expect(status.fact("status-policy-file")).toHaveText(process.env.AIRLOCK_E2E_POLICY!);
  await expect(status.fact("status-policy-hash")).toHaveText(/^sha256 [0-9a-f]{12}$/);

  await expect(status.fact("status-chain")).toContainText("intact");
  await expect(status.fact("status-chain")).toContainText(/\d+ rows/);
});

for (const email of ["alice@example.com", "carol@example.com"]) {
  test(`the status page is not there for ${email.split("@")[0]} (not an admin)`, async ({ page, signIn }) => {
    await signIn(email);
    await expect(page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Policy" })).toBeVisible();
    await expect(new StatusPage(page).navLink).toHaveCount(0);
    const response = await page.goto("/status");
    expect(response?.status()).toBe(404);
    await expect(page.getByTestId("status-resource")).toHaveCount(0);
  });
}
