import pg from "pg";
import type { GrantView } from "../lib/access/view";
import { expect, test } from "./fixtures";
import { BreakGlassQueue } from "./pages/break-glass-queue";
import { agentToken } from "./support/agent";

// ops-agent breaks the glass on `pg` (the shipped policy's break_glass: the ops group, 1h, a reason):
// on demo, other tests hold its statements for review, which a break-glass grant would let through.
test("a break-glass use appears on the queue live, is flagged on the Sessions page, and stays until alice reviews it with a note", async ({ page, baseURL, signIn }) => {
  await signIn("alice@example.com");
  const queue = new BreakGlassQueue(page);
  const token = agentToken("ops-agent");
  const res = await fetch(`${baseURL}/api/v1/break-glass`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ resource: "pg", duration: "10m", reason: "e2e-break-glass: balances wrong" }),
  });
  expect(res.status).toBe(201);
  const grant = (await res.json()) as GrantView;
  await expect(queue.item(grant.id), "on the open queue without a reload").toContainText("ops-agent took 10m of emergency access to pg");

  const health = (await (await fetch(`${baseURL}/api/health`)).json()) as { proxy: { host: string; port: number } };
  const agent = new pg.Client({ host: health.proxy.host, port: health.proxy.port, user: "ops-agent", password: token, database: "pg", application_name: "e2e airlock-mode=return" });
  await agent.connect();
  try {
    await agent.query("update accounts set balance = balance where id = 50 /* e2e-break-glass */");
  } finally {
    await agent.end();
    // Given back at once: nothing else of ops-agent's on pg runs unreviewed while other tests run.
    await fetch(`${baseURL}/api/v1/grants/${grant.id}`, { method: "DELETE", headers: { authorization: `Bearer ${token}` } });
  }

  await page.goto("/sessions");
  // The statement is recorded a moment after it ran.
  await expect(async () => {
    await page.reload();
    await expect(page.getByTestId("recent-statement").filter({ hasText: "e2e-break-glass" }).getByTestId("break-glass-flag")).toBeVisible({ timeout: 1_000 });
  }).toPass({ timeout: 15_000 });

  await page.goto("/");
  await expect(queue.item(grant.id)).toContainText("e2e-break-glass: balances wrong");
  await page.reload();
  await expect(queue.item(grant.id), "stays until reviewed").toBeVisible();
  await queue.review(grant.id, "Looked at the statement under it: a no-op update, as the incident needed.");
  await expect(queue.item(grant.id)).toHaveCount(0);
  await page.reload();
  await expect(queue.item(grant.id)).toHaveCount(0);
});
