import pg from "pg";
import { expect, test } from "./fixtures";
import { RequestsPage } from "./pages/requests-page";
import { connectAgent } from "./support/agent";

test("alice opens a held UPDATE on a real PostgreSQL and sees how many rows it changes before deciding", async ({ page, baseURL, signIn }) => {
  await signIn("alice@example.com");
  const agent = await connectAgent(baseURL!, "pg");
  agent.on("error", () => undefined);
  const direct = new pg.Client({ connectionString: process.env.AIRLOCK_E2E_PG_URL });
  await direct.connect();
  try {
    const rows = () => direct.query("select id, balance from accounts where id between 20 and 26 order by id").then((r) => r.rows as Array<{ id: number; balance: number }>);
    const before = await rows();
    const running = agent.query("update accounts set balance = balance - $1 where id between $2 and $3 /* e2e-impact */", [3, 20, 26]);
    const queue = new RequestsPage(page);
    await expect(queue.request("e2e-impact")).toContainText("on pg");
    await queue.open("e2e-impact");
    const impact = page.getByTestId("impact-preview");
    // The preview arrives after the request was announced; the page shows it without a reload.
    await expect(impact).toContainText("7 rows (dry run)");
    await expect(impact).toContainText(/~\d+ rows? \(estimate\) updated/);
    const sample = impact.getByTestId("dry-run-sample");
    await expect(sample).toContainText("before → after");
    await expect(sample.locator("tbody tr").first()).toContainText(`${before[0].balance} → ${before[0].balance - 3}`);
    expect(await rows()).toEqual(before);
    await queue.decide("Approve once");
    await expect(page.getByTestId("request-status")).toHaveText("approved");
    expect((await running).rowCount).toBe(7);
    expect((await rows()).map((r) => r.balance)).toEqual(before.map((r) => r.balance - 3));
  } finally {
    await agent.end();
    await direct.end();
  }
});
