import pg from "pg";
import { expect, test } from "./fixtures";
import { RequestsPage } from "./pages/requests-page";
import { connectAgent } from "./support/agent";

test("approve with at most N rows on a real PostgreSQL: past the limit the UPDATE is rolled back and the agent told why", async ({ page, baseURL, signIn }) => {
  await signIn("alice@example.com");
  const agent = await connectAgent(baseURL!, "pg");
  agent.on("error", () => undefined);
  const direct = new pg.Client({ connectionString: process.env.AIRLOCK_E2E_PG_URL });
  await direct.connect();
  try {
    const before = (await direct.query("select id, balance from accounts where id between 40 and 44 order by id")).rows;
    const running = agent.query("update accounts set balance = balance + 1 where id between 40 and 44");
    const failed = running.then(
      () => undefined,
      (err: Error) => err,
    );
    const queue = new RequestsPage(page);
    await expect(queue.request("between 40 and 44")).toContainText("on pg");
    await queue.open("between 40 and 44");
    await page.getByLabel(/At most N rows/).fill("2");
    await queue.decide("Approve once");
    await expect(page.getByTestId("request-status")).toHaveText("approved");
    await expect(page.locator("ol.history li")).toContainText("approved once, at most 2 rows");
    const err = await failed;
    expect(err?.message).toMatch(/^airlock: request r_[0-9a-f]+ was approved for at most 2 rows, but the statement changed 5; Airlock rolled it back$/);
    expect((await direct.query("select id, balance from accounts where id between 40 and 44 order by id")).rows).toEqual(before);
    expect((await agent.query("select 1 as n")).rows[0].n).toBe(1);
  } finally {
    await agent.end();
    await direct.end();
  }
});
