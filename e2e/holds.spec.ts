import pg from "pg";
import { expect, test } from "./fixtures";
import { RequestsPage } from "./pages/requests-page";
import { connectAgent } from "./support/agent";
import { signedInPerson } from "./support/person";

test("a held UPDATE appears live, alice approves it, the agent's statement completes and the queue empties", async ({ page, browser, baseURL, signIn }) => {
  await signIn("alice@example.com");
  const queue = new RequestsPage(page);

  // A second person watching the queue sees the request come and go too.
  const { context: other, page: watcher } = await signedInPerson(browser, baseURL!, "bob@example.com");

  const agent = await connectAgent(baseURL!);
  const notices: string[] = [];
  agent.on("notice", (n) => notices.push(n.message ?? ""));
  try {
    const running = agent.query("update orders set status = 'delivered' where id = 42 /* shipped-by-e2e */");
    await expect(queue.request("shipped-by-e2e")).toBeVisible();
    await expect(new RequestsPage(watcher).request("shipped-by-e2e")).toBeVisible();
    await expect(queue.request("shipped-by-e2e")).toContainText("0 of 1 approvals");
    expect(notices.join("\n")).toMatch(/airlock: held for approval — request r_[0-9a-f]+: http:\/\/localhost:\d+\/requests\/r_/);

    await queue.open("shipped-by-e2e");
    await expect(page.getByTestId("request-status")).toHaveText("pending");
    await queue.decide("Approve once");
    await expect(page.getByTestId("request-status")).toHaveText("approved");

    const result = await running;
    expect(result.rowCount).toBe(1);
    expect((await agent.query("select status from orders where id = 42")).rows[0].status).toBe("delivered");
    await expect(new RequestsPage(watcher).request("shipped-by-e2e")).toContainText("approved");
    await expect(watcher.getByRole("list", { name: "Pending requests" })).toHaveCount(0);
  } finally {
    await agent.end();
    await other.close();
  }
});

test("deny with a reason: the agent gets 42501 with alice's name and the reason", async ({ page, baseURL, signIn }) => {
  await signIn("alice@example.com");
  const queue = new RequestsPage(page);
  const agent = await connectAgent(baseURL!);
  try {
    const running = agent.query("delete from refunds where id = 7");
    running.catch(() => undefined);
    await queue.open("delete from refunds where id = 7");
    await queue.decide("Deny", "refunds are frozen this week");
    await expect(running).rejects.toMatchObject({ code: "42501", message: "airlock: denied by alice@example.com: refunds are frozen this week" });

    // Past requests, filtered by status and agent.
    await page.goto("/");
    await page.getByLabel("Status").selectOption("denied");
    await page.getByLabel("Agent").selectOption("reporting-agent");
    await page.getByRole("button", { name: "Filter" }).click();
    await expect(page).toHaveURL(/status=denied&agent=reporting-agent/);
    const past = page.getByRole("list", { name: "Past requests" });
    await expect(past.getByTestId("request").filter({ hasText: "delete from refunds where id = 7" })).toContainText("denied");
    await expect(past.getByTestId("request").filter({ hasText: "approved" })).toHaveCount(0);
  } finally {
    await agent.end();
  }
});

test("carol (viewer) sees requests but no buttons", async ({ page, baseURL, signIn }) => {
  await signIn("carol@example.com");
  const queue = new RequestsPage(page);
  const agent = await connectAgent(baseURL!, "demo", "ops-agent");
  agent.on("error", () => undefined);
  try {
    agent.query("update products set price_cents = 1 where id = 3").catch(() => undefined);
    await queue.open("update products set price_cents = 1");
    await expect(page.getByTestId("request-status")).toHaveText("pending");
    await expect(page.getByRole("button", { name: /Approve/ })).toHaveCount(0);
    await expect(page.getByRole("button", { name: "Deny" })).toHaveCount(0);
  } finally {
    await agent.end();
  }
});

test("approve for 15 minutes: the next matching UPDATE runs without a request; after Revoke it is held again", async ({ page, baseURL, signIn }) => {
  await signIn("bob@example.com");
  const queue = new RequestsPage(page);
  const agent = await connectAgent(baseURL!, "demo", "ops-agent");
  agent.on("error", () => undefined);
  try {
    const first = agent.query("update customers set country = 'DE' where id = 11");
    await queue.open("update customers set country = 'DE' where id = 11");
    await queue.decide("Approve for 15 min");
    await first;
    await agent.query("update customers set country = 'FR' where id = 12");

    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Grants" }).click();
    const grant = page.getByTestId("grant").filter({ hasText: "ops-agent" });
    await expect(grant).toContainText("update customers");
    await expect(grant).toContainText("bob@example.com");
    await expect(grant.getByTestId("countdown")).toContainText(/1[45]:\d\d left/);
    await expect(grant.locator("td.num")).toHaveText("1");
    await grant.getByRole("button", { name: "Revoke" }).click();
    await expect(grant).toHaveCount(0);

    const held = agent.query("update customers set country = 'IT' where id = 13");
    held.catch(() => undefined);
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Requests" }).click();
    await expect(queue.request("country = 'IT'")).toBeVisible();
  } finally {
    await agent.end();
  }
});

test("on a real PostgreSQL resource: held, approved in the browser, run", async ({ page, baseURL, signIn }) => {
  await signIn("alice@example.com");
  const agent = await connectAgent(baseURL!, "pg");
  const direct = new pg.Client({ connectionString: process.env.AIRLOCK_E2E_PG_URL });
  await direct.connect();
  try {
    const running = agent.query("update accounts set balance = balance - 10 where id = $1", [7]);
    const queue = new RequestsPage(page);
    await expect(queue.request("update accounts")).toContainText("on pg");
    await queue.open("update accounts");
    await expect(page.getByText("$1 = \"7\"")).toBeVisible();
    await queue.decide("Approve once");
    expect((await running).rowCount).toBe(1);
    expect((await direct.query("select balance from accounts where id = 7")).rows[0].balance).toBe(90);
  } finally {
    await agent.end();
    await direct.end();
  }
});

test("a held UPDATE … RETURNING: the request page says what its result will mask, and after approval the agent gets it masked", async ({ page, baseURL, signIn }) => {
  await signIn("alice@example.com");
  const queue = new RequestsPage(page);
  const agent = await connectAgent(baseURL!);
  try {
    const running = agent.query("update customers set country = country where id = 7 returning id, email /* returning-by-e2e */");
    await queue.open("returning-by-e2e");
    const preview = page.getByTestId("masking-preview");
    await expect(preview).toContainText("Once approved, its result is masked");
    await expect(preview.getByRole("listitem").filter({ hasText: "email" })).toHaveText("email — masked (from public.customers.email)");
    await expect(preview.getByRole("listitem").filter({ hasText: "id" })).toHaveText("id — searched for personal data");
    await queue.decide("Approve once");

    const result = await running;
    expect(result.rows).toEqual([{ id: 7, email: expect.stringMatching(/^.\*\*\*@[a-z.]+$/) }]);
    await expect(preview).toContainText("Its result is masked");
  } finally {
    await agent.end();
  }
});
