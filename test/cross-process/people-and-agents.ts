/** What the cross-process tests do as people (signed in on one Airlock) and as agents (on any proxy). */
import assert from "node:assert/strict";
import pg from "pg";
import type { ApprovalService } from "../../lib/approvals/service";
import type { RunningAirlock } from "../support/airlock-server";
import { pendingRequest } from "../support/pending-request";
import { callServerAction } from "../support/server-actions";

/** An agent connected to a proxy on `port`, with the notices it is sent. */
export async function agentOnProxy(port: number, token: string, database = "pg") {
  const client = new pg.Client({ host: "127.0.0.1", port, user: "reporting-agent", password: token, database });
  const notices: string[] = [];
  client.on("notice", (n) => notices.push(n.message ?? ""));
  client.on("error", () => undefined);
  await client.connect();
  return { client, notices };
}

/** A signed-in person (their session cookie) deciding and reading pages on one Airlock, as their browser would. */
export function personOn(airlock: RunningAirlock, cookie: string) {
  return {
    decide(requestId: string, decision: string, reason?: string): Promise<string> {
      return callServerAction(airlock, cookie, "decideRequest", `/requests/${requestId}`, { requestId, decision, ...(reason ? { reason } : {}) });
    },
    revoke(grantId: string): Promise<string> {
      return callServerAction(airlock, cookie, "revokeGrant", "/grants", { grantId });
    },
    async page(url: string): Promise<string> {
      const res = await fetch(new URL(url, airlock.url), { headers: { cookie } });
      assert.equal(res.status, 200, url);
      return res.text();
    },
  };
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

type Person = ReturnType<typeof personOn>;

/**
 * The agent's UPDATE held where it is connected and decided by `person` wherever they are signed
 * in: first denied (the agent gets the reason), then approved `rounds` times. Prints and returns
 * each round's time from the stored decision to the agent having its rows.
 */
export async function denyThenApproveRounds(label: string, client: pg.Client, approvals: ApprovalService, person: Person, rounds: number): Promise<number[]> {
  const refused = assert.rejects(client.query("update counters set n = n + 1 where id = 1"), /denied by alice@example.com: not today/);
  const request = await pendingRequest(approvals);
  assert.ok((await person.page("/")).includes(request.id), "the queue shows the hold");
  assert.match(await person.decide(request.id, "deny", "not today"), /Request denied/);
  await refused;

  const latencies: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const sql = `update counters set n = n + 1 where id = ${i + 2}`;
    // Timed as the rows arrive, not when the action's own response (rendered after) is read.
    const result = client.query(sql).then((r) => ({ rows: r.rowCount, at: Date.now() }));
    const pending = await pendingRequest(approvals, sql);
    assert.match(await person.decide(pending.id, "approve:once"), /Request approved/);
    const { rows, at } = await result;
    assert.equal(rows, 1);
    latencies.push(at - (await approvals.get(pending.id))!.decidedAt!.getTime());
  }
  console.log(`# ${label}, ${rounds} rounds: p50 ${percentile(latencies, 50)} ms, p99 ${percentile(latencies, 99)} ms, max ${Math.max(...latencies)} ms`);
  return latencies;
}
