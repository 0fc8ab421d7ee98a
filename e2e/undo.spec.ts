import pg from "pg";
import { expect, test } from "./fixtures";
import { RequestsPage } from "./pages/requests-page";
import { connectAgent } from "./support/agent";
import { signedInPerson } from "./support/person";

test("undo on a real PostgreSQL: alice approves a held UPDATE, asks to revert it, bob approves the revert, and the rows are back", async ({ page, browser, baseURL, signIn }) => {
  await signIn("alice@example.com");
  const agent = await connectAgent(baseURL!, "pg");
  const direct = new pg.Client({ connectionString: process.env.AIRLOCK_E2E_PG_URL });
  await direct.connect();
  const bob = await signedInPerson(browser, baseURL!, "bob@example.com");
  try {
    const rows = () => direct.query("select id, owner, balance from accounts where id between 30 and 32 order by id").then((r) => r.rows);
    const before = await rows();
    const running = agent.query("update accounts set balance = balance * 2, owner = 'e2e undo' where id between 30 and 32");
    const queue = new RequestsPage(page);
    await queue.open("between 30 and 32");
    await queue.decide("Approve once");
    expect((await running).rowCount).toBe(3);
    expect((await rows()).map((r) => r.owner)).toEqual(["e2e undo", "e2e undo", "e2e undo"]);

    // The write's page: what was captured (masked as the agent reads it), and Revert.
    const undo = page.getByTestId("undo");
    await expect(undo).toContainText("Captured 3 rows of public.accounts");
    await expect(undo.getByTestId("undo-rows")).toContainText("e2e undo");
    await undo.getByRole("button", { name: "Revert" }).click();
    await expect(undo).toContainText(/Revert asked for: request r_[0-9a-f]+/);
    const revertId = /request (r_[0-9a-f]+)/.exec((await undo.textContent()) ?? "")![1];

    // Alice asked, so bob decides; the revert's page says what it restores.
    await bob.page.goto(`/requests/${revertId}`);
    await expect(bob.page.getByTestId("undo")).toContainText("What this revert restores");
    await expect(bob.page.getByTestId("undo")).toContainText("puts back the values it changed — 3 rows of public.accounts");
    await new RequestsPage(bob.page).decide("Approve once");
    await expect(bob.page.getByTestId("request-status")).toHaveText("approved");
    await expect.poll(rows, { timeout: 10_000 }).toEqual(before);
    await page.reload();
    await expect(page.getByTestId("undo-outcome")).toHaveText("Revert restored 3 rows.");
  } finally {
    await agent.end();
    await direct.end();
    await bob.context.close();
  }
});
