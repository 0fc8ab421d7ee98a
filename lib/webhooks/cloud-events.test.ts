import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { test } from "node:test";
import type { AccessRequest } from "../db/schema";
import { cloudEvent, EVENT_STATEMENT_BYTES } from "./cloud-events";

const at = new Date("2026-12-07T15:00:00Z");

function request(statements: AccessRequest["statements"]): AccessRequest {
  const fields = { id: "r_1", kind: "statement", agentId: "ops-agent", groups: ["agents"], resource: "demo", rule: "agents-write", why: "insert on public.notes", scope: [], approverGroups: ["db-approvers"], requiredApprovals: 1, createdAt: at, expiresAt: at, statements };
  return fields as unknown as AccessRequest;
}

function openedStatements(statements: AccessRequest["statements"], includeSql = true): unknown {
  const event = cloudEvent("request.opened", { kind: "request", request: request(statements), decisions: [] }, { auditSource: "request:r_1:pending", at, publicUrl: "https://airlock.example.com", includeSql });
  return (event.data.request as { statements?: unknown }).statements;
}

test("a statement longer than EVENT_STATEMENT_BYTES is cut there, on a character, with the whole one's size and hash", () => {
  const text = `insert into notes values ('${"é".repeat(EVENT_STATEMENT_BYTES)}')`;
  const [s] = openedStatements([{ text, params: ["kept-out"] }]) as Array<{ text: string; full: { bytes: number; sha256: string }; parameterCount: number }>;
  assert.ok(Buffer.byteLength(s.text) <= EVENT_STATEMENT_BYTES && Buffer.byteLength(s.text) > EVENT_STATEMENT_BYTES - 2, `${Buffer.byteLength(s.text)} bytes`);
  assert.ok(text.startsWith(s.text), "a prefix, no half character");
  assert.deepEqual(s.full, { bytes: Buffer.byteLength(text), sha256: createHash("sha256").update(text).digest("hex") });
  assert.equal(s.parameterCount, 1);
  assert.deepEqual(openedStatements([{ text: "select 1", params: null }]), [{ text: "select 1", parameterCount: 0 }], "a short one whole, with no full");
  assert.equal(openedStatements([{ text, params: ["kept-out"] }], false), undefined, "include_sql: false");
});

test("request.decided: a stepped-up decision carries the sign-in that made it count; others carry nothing of it", () => {
  const decided = { ...request([{ text: "alter table t add c int", params: null }]), status: "approved", decidedAt: at, outcomeReason: null, grantId: null } as AccessRequest;
  const decision = { id: 1, requestId: "r_1", personEmail: "alice@example.com", decision: "approve" as const, grantMs: null, reason: null, via: "web" as const, at, maxRows: null };
  const signedInAt = new Date(at.getTime() - 60_000);
  const event = cloudEvent("request.decided", { kind: "request", request: decided, decisions: [{ ...decision, authAt: signedInAt }, { ...decision, id: 2, personEmail: "bob@example.com", authAt: null }] }, { auditSource: "request:r_1:approved", at, publicUrl: "https://airlock.example.com", includeSql: true });
  const [alice, bob] = event.data.decisions as Array<Record<string, unknown>>;
  assert.deepEqual(alice.steppedUp, { signedInAt: signedInAt.toISOString() });
  assert.equal("steppedUp" in bob, false);
});
