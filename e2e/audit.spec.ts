import fs from "node:fs";
import { expect, test } from "./fixtures";
import { AuditPage } from "./pages/audit-page";
import { connectAgent } from "./support/agent";
import { signedInPerson } from "./support/person";

/** A word only this test's statements contain: the suite shares one server and one log. */
const marker = (name: string) => `audit_e2e_${name}_${Date.now().toString(36)}`;

test("the audit page lists an agent's statement with its decision; filters by agent and SQL text narrow the list; a row opens its record", async ({ page, signIn, baseURL }) => {
  const word = marker("list");
  const agent = await connectAgent(baseURL!);
  try {
    await agent.query(`select count(*) as ${word} from customers`);
    await agent.query(`select email as ${word}_masked from customers order by id limit 3`);
  } finally {
    await agent.end();
  }
  await signIn("alice@example.com");
  const audit = new AuditPage(page);
  await audit.open();
  await expect(audit.chain).toContainText("Chain intact");

  // Other tests write to the same log meanwhile: narrow to this test's statements first.
  await audit.filter({ "SQL contains": word });
  await expect(page).toHaveURL((url) => url.searchParams.get("q") === word);
  await expect(audit.rows).toHaveCount(2);
  // Newest first: the masked one was sent last.
  await expect(audit.rows.first()).toContainText(`${word}_masked`);
  await expect(audit.rows.first().getByTestId("audit-decision")).toHaveText("masked");
  await expect(audit.rows.last()).toContainText(`as ${word} from customers`);
  await expect(audit.rows.last().getByTestId("audit-decision")).toHaveText("allowed");
  await expect(audit.rows.last()).toContainText("reporting-agent");

  // Walking the chain again keeps the view; the address it lands on does not walk it again.
  await Promise.all([page.waitForRequest((r) => r.url().includes("verify=1")), audit.chain.getByRole("button", { name: "Verify now" }).click()]);
  // The filter form's address (every field, empty ones too) is still current until the redirect lands: wait for that one.
  await page.waitForURL((url) => url.pathname === "/audit" && [...url.searchParams.keys()].join() === "q");
  await expect(audit.chain).toContainText("Chain intact");
  await expect(audit.rows).toHaveCount(2);

  await audit.filter({ Agent: "ops-agent" });
  await expect(page.getByText("No rows match")).toBeVisible();
  await audit.filter({ Agent: "reporting-agent", Decision: "masked" });
  await expect(audit.rows).toHaveCount(1);
  await expect(audit.rows).toContainText(`${word}_masked`);

  await audit.rows.first().getByRole("link", { name: /^Open row \d+$/ }).click();
  await expect(page.getByRole("heading", { level: 1, name: /^Audit row \d+$/ })).toBeVisible();
  await expect(page.getByTestId("audit-hash")).toHaveText(/^[0-9a-f]{64}$/);
  await expect(page.getByTestId("audit-prev-hash")).toHaveText(/^[0-9a-f]{64}$/);
  await expect(page.getByTestId("row-check")).toContainText("Its content matches its hash");
  await expect(page.getByTestId("audit-sql")).toContainText(`${word}_masked`);
  await expect(page.getByTestId("audit-data")).toContainText('"masked"');
});

test("older rows are a click away, page by page, none twice", async ({ page, signIn, baseURL }) => {
  const word = marker("pages");
  const agent = await connectAgent(baseURL!);
  try {
    for (let i = 1; i <= 60; i++) await agent.query(`select ${i} as ${word}`);
  } finally {
    await agent.end();
  }
  await signIn("carol@example.com");
  const audit = new AuditPage(page);
  await audit.open();
  await audit.filter({ "SQL contains": word });
  await expect(audit.rows).toHaveCount(50);
  await expect(audit.rows.first()).toContainText(`select 60 as ${word}`);
  const firstPage = await audit.rows.getByRole("link").allTextContents();

  await audit.older.click();
  await expect(audit.rows).toHaveCount(10);
  await expect(audit.rows.last()).toContainText(`select 1 as ${word}`);
  await expect(audit.older).toHaveCount(0);
  const secondPage = await audit.rows.getByRole("link").allTextContents();
  expect(secondPage.filter((id) => firstPage.includes(id))).toEqual([]);

  await audit.newest.click();
  await expect(audit.rows).toHaveCount(50);
  await expect(page).toHaveURL((url) => url.searchParams.get("q") === word);
});

test("the overview draws the last day's statements, counting a fresh one", async ({ page, signIn, baseURL }) => {
  await signIn("carol@example.com");
  await page.goto("/audit/overview");
  const chart = page.getByTestId("chart-statements-per-hour");
  await expect(chart.locator("svg[role=img]")).toBeVisible();
  await expect(chart.locator("svg title").first()).toHaveText("Statements per hour, last 24 hours (UTC)");
  const total = async () => (await chart.getByTestId("chart-bar").evaluateAll((bars) => bars.map((b) => Number(b.getAttribute("data-total"))))).reduce((a, b) => a + b, 0);
  const before = await total();

  const word = marker("chart");
  const agent = await connectAgent(baseURL!);
  try {
    await agent.query(`select 1 as ${word}`);
  } finally {
    await agent.end();
  }
  await expect.poll(async () => (await page.reload(), total())).toBeGreaterThan(before);
  await expect(page.getByTestId("chart-top-agents").locator("[data-name='reporting-agent']")).toHaveCount(1);
  for (const id of ["requests-per-day", "time-to-decision", "top-tables"]) await expect(page.getByTestId(`chart-${id}`)).toBeVisible();
  // The numbers are there as text too.
  await chart.getByText("Show as a table").click();
  await expect(chart.getByRole("table")).toBeVisible();
});

test("a viewer has no export and is refused it; an admin downloads CSV", async ({ page, signIn, browser, baseURL }) => {
  await signIn("carol@example.com");
  const audit = new AuditPage(page);
  await audit.open();
  await expect(audit.chain).toBeVisible();
  await expect(audit.exportLinks).toHaveCount(0);
  const refused = await page.request.get("/api/audit/export?format=csv");
  expect(refused.status()).toBe(403);
  expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("forbidden");

  const word = marker("export");
  const agent = await connectAgent(baseURL!);
  try {
    await agent.query(`select 1 as ${word}`);
  } finally {
    await agent.end();
  }
  const { context, page: admin } = await signedInPerson(browser, baseURL!, "admin@example.com");
  try {
    const adminAudit = new AuditPage(admin);
    await adminAudit.open();
    await expect(adminAudit.row(word)).toHaveCount(1);
    const [download] = await Promise.all([admin.waitForEvent("download"), adminAudit.exportLinks.getByRole("link", { name: "CSV" }).click()]);
    expect(download.suggestedFilename()).toMatch(/^airlock-audit-\d{4}-\d{2}-\d{2}\.csv$/);
    const csv = fs.readFileSync((await download.path())!, "utf8");
    expect(csv.split("\r\n")[0]).toBe("id,at,type,agent_id,person,resource,session_id,request_id,grant_id,decision,sql,tables,data,prev_hash,hash");
    expect(csv).toContain(`select 1 as ${word}`);
  } finally {
    await context.close();
  }
});

test("a held statement's request: its row links to the request, and its record lists the request's rows", async ({ page, signIn, baseURL }) => {
  const word = marker("held");
  await signIn("carol@example.com");
  const agent = await connectAgent(baseURL!);
  agent.on("error", () => undefined);
  const held = agent.query(`update orders set status = 'paid' where id = 17 /* ${word} */`).catch(() => undefined);
  const audit = new AuditPage(page);
  await audit.open();
  await audit.filter({ "SQL contains": word, Event: "request.opened" });
  await expect(audit.rows).toHaveCount(1);
  await expect(audit.rows.getByTestId("audit-decision")).toHaveText("pending");
  await audit.rows.getByRole("link", { name: /^Open row/ }).click();

  const requestLink = page.getByRole("heading", { name: /^Request r_[0-9a-f]+ ?: its rows$/ }).getByRole("link");
  await expect(requestLink).toHaveAttribute("href", /^\/requests\/r_[0-9a-f]+$/);
  const rows = page.getByRole("table", { name: /Audit rows of request/ }).getByTestId("audit-row");
  await expect(rows).toContainText(["request.opened"]);

  // The agent leaves: its request is cancelled, and the story says so.
  await agent.end();
  await held;
  await expect.poll(async () => (await page.reload(), rows.allTextContents()), { timeout: 15_000 }).toContainEqual(expect.stringContaining("request.cancelled"));
  await requestLink.click();
  await expect(page.getByTestId("request-status")).toHaveText("cancelled");
});
