import pg from "pg";
import type { RequestView } from "../lib/access/view";
import { expect, test } from "./fixtures";
import { RequestsPage } from "./pages/requests-page";
import { agentToken } from "./support/agent";

// Scoped to UPDATE on products: other browser tests run in parallel as the same agent on other tables.
const ASK = { resource: "demo", kinds: ["update"], tables: ["products"], duration: "15m", reason: "e2e-access-main: fix product prices" };

test("an access request appears live; alice shortens 15 minutes to 10; the agent's long-poll says connect within a second; its updates run without review", async ({ page, baseURL, signIn }) => {
  await signIn("alice@example.com");
  const queue = new RequestsPage(page);
  const token = agentToken();
  const call = async (method: string, path: string, body?: object) => {
    const res = await fetch(`${baseURL}${path}`, { method, headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: body && JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as RequestView };
  };

  const asked = await call("POST", "/api/v1/access-requests", ASK);
  expect(asked.status).toBe(201);
  await expect(queue.request("e2e-access-main")).toContainText("asks for update access to demo for 15 min");
  await queue.open("e2e-access-main");
  await expect(page.getByTestId("asked-duration")).toHaveText("15 min, from approval");

  const polled = call("GET", `/api/v1/access-requests/${asked.body.id}?wait=25`).then((answer) => ({ ...answer, at: Date.now() }));
  await page.waitForTimeout(300); // the long-poll is waiting
  const approvedAt = Date.now();
  await queue.approveFor("10m");
  await expect(page.getByTestId("request-status")).toHaveText("approved");
  const answer = await polled;
  expect(answer.at - approvedAt).toBeLessThan(1000);
  expect(answer.body).toMatchObject({ status: "approved", next: "connect", grant: { status: "active", approved_by: ["alice@example.com"] } });
  const length = Date.parse(answer.body.grant!.expires_at) - Date.parse(answer.body.decided_at!);
  expect(Math.abs(length - 10 * 60_000)).toBeLessThan(1000);
  await expect(page.locator("ol.history li")).toContainText("alice@example.com approved for 10 min via web");

  const dsn = new URL(answer.body.dsn!);
  const agent = new pg.Client({ host: dsn.hostname, port: Number(dsn.port), user: dsn.username, database: dsn.pathname.slice(1), password: token, application_name: "e2e airlock-mode=return" });
  await agent.connect();
  try {
    expect((await agent.query("update products set price_cents = price_cents where id = 9")).rowCount).toBe(1);
  } finally {
    await agent.end();
    // Given back, so no other test runs under it.
    expect((await call("DELETE", `/api/v1/grants/${answer.body.grant!.id}`)).status).toBe(200);
  }
});

test("an approver may shorten access, never lengthen it", async ({ page, signIn, baseURL }) => {
  await signIn("bob@example.com");
  const token = agentToken();
  const res = await fetch(`${baseURL}/api/v1/access-requests`, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify({ ...ASK, reason: "e2e-access-longer" }) });
  expect(res.status).toBe(201);
  const queue = new RequestsPage(page);
  await queue.open("e2e-access-longer");
  await queue.approveFor("2h");
  await expect(page.locator("p.alert")).toHaveText("approvers may shorten the access asked for, never lengthen it");
  await expect(page.getByTestId("request-status")).toHaveText("pending");
  await queue.decide("Deny", "not needed");
  await expect(page.getByTestId("request-status")).toHaveText("denied");
});
