import { expect, test } from "./fixtures";
import { connectAgent } from "./support/agent";

test("the sessions page shows an agent's live connection and its statements without a reload", async ({ page, signIn, baseURL }) => {
  await signIn("carol@example.com");
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Sessions" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Sessions" })).toBeVisible();
  const live = page.getByTestId("live-session").filter({ hasText: "reporting-agent" });
  await expect(live).toHaveCount(0);

  const agent = await connectAgent(baseURL!);
  try {
    await expect(live).toHaveCount(1);
    await expect(live).toContainText("demo");
    await expect(live).toContainText("agents, analytics");

    await agent.query("select count(*) as customers_seen_by_e2e from customers");
    const statement = page.getByTestId("recent-statement").filter({ hasText: "customers_seen_by_e2e" });
    await expect(statement).toBeVisible();
    await expect(statement).toContainText("ran");
    await expect(live).toContainText("customers_seen_by_e2e");

    // What masking did shows with the statement: the agent got shapes, not the values.
    const { rows } = await agent.query("select email as masked_by_e2e from customers order by id limit 5");
    for (const row of rows as Array<{ masked_by_e2e: string }>) expect(row.masked_by_e2e).toMatch(/^.\*\*\*@/);
    const masked = page.getByTestId("recent-statement").filter({ hasText: "masked_by_e2e" });
    await expect(masked.getByTestId("masked-note")).toHaveText("· 5 masked");
    await expect(masked.getByTestId("masked-note")).toHaveAttribute("title", "masked in masked_by_e2e");
  } finally {
    await agent.end();
  }
  await expect(live).toHaveCount(0);
});
