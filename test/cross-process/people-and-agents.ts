/** What the cross-process tests do as people (signed in on one Airlock) and as agents (on any proxy). */
import assert from "node:assert/strict";
import pg from "pg";
import type { RunningAirlock } from "../support/airlock-server";
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
