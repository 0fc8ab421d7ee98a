import { after, beforeEach, test } from "node:test";
import assert from "node:assert/strict";
import { makeTempDir } from "../../test/support/temp-dir";
import { openStore, type Store } from "../db/client";
import { GrantStore } from "./grants";
import { TooManyPendingError } from "./pending-cap";
import type { Decider } from "./people";
import { ApprovalService } from "./service";
import { heldUpdate } from "./testing";

const AGENT_ISSUER = "https://login.example.com";
const dir = makeTempDir("approvals-people");
let store: Store;
let service: ApprovalService;
let n = 0;
after(() => {
  service?.close();
  store?.close();
  dir.remove();
});
beforeEach(() => {
  service?.close();
  store?.close();
  store = openStore(`${dir.path}/${n++}`, "drizzle");
  service = new ApprovalService(store.db, new GrantStore(store.db), undefined, { maxPendingPerAgent: 3, agentIssuer: AGENT_ISSUER });
});

const approver = (email: string, identity?: Decider["identity"]): Decider => ({ email, groups: ["db-approvers"], role: "approver", identity });

test("one decision per person, whatever the case of their email in the web or in Slack", () => {
  const r = service.open(heldUpdate({ requiredApprovals: 2 }));
  assert.ok(service.decide({ requestId: r.id, person: approver("Bob@Example.com"), action: "approve", via: "web" }).ok);
  const again = service.decide({ requestId: r.id, person: approver("bob@example.com "), action: "approve", via: "slack" });
  assert.deepEqual(again.ok ? "decided" : again.code, "duplicate");
  assert.equal(service.refusal(r.id, approver("BOB@example.com"))?.code, "duplicate");
  assert.equal(service.get(r.id)!.status, "pending");
});

test("the requester never approves: an agent named by the person's email in another case", () => {
  const r = service.open(heldUpdate({ agentId: "alice@example.com" }));
  const result = service.decide({ requestId: r.id, person: approver("Alice@Example.COM"), action: "approve", via: "web" });
  assert.deepEqual(result.ok ? "decided" : result.code, "forbidden");
});

test("the requester never approves: the same identity (issuer and subject) under an email that differs", () => {
  const r = service.open(heldUpdate({ agentId: "00u1a2b3c4" }));
  const sameSubjectElsewhere = approver("alice@example.com", { issuer: "https://other.example.com", subject: "00u1a2b3c4" });
  assert.equal(service.refusal(r.id, sameSubjectElsewhere), undefined, "a subject at another issuer is someone else");
  const result = service.decide({ requestId: r.id, person: approver("alice@example.com", { issuer: AGENT_ISSUER, subject: "00u1a2b3c4" }), action: "approve", via: "web" });
  assert.deepEqual(result.ok ? "decided" : [result.code, result.message], ["forbidden", "the requester cannot decide its own request"]);
});

test("an agent has at most its cap of pending requests; others' and decided ones do not count; the count is true", () => {
  const mine = [0, 1, 2].map(() => service.open(heldUpdate({ agentId: "ops-agent" })));
  assert.throws(() => service.open(heldUpdate({ agentId: "ops-agent" })), (err: unknown) => err instanceof TooManyPendingError && err.limit === 3 && /^airlock: ops-agent already has 3 requests/.test(err.message));
  assert.ok(service.open(heldUpdate({ agentId: "reporting-agent" })), "another agent still opens its requests");
  assert.equal(service.pendingCount({ agentId: "ops-agent" }), 3);
  assert.equal(service.pendingCount(), 4);
  service.cancel(mine[0].id, "withdrawn");
  assert.ok(service.open(heldUpdate({ agentId: "ops-agent" })), "a slot is free again once one ends");
  assert.equal(service.list("pending", 2, { offset: 2 }).length, 2, "pages of the queue");
});

test("one whose time ran out no longer counts, even before its timer marks it", () => {
  for (let i = 0; i < 3; i++) service.open(heldUpdate({ agentId: "ops-agent", timeoutMs: 0 }));
  assert.equal(service.pendingCount({ agentId: "ops-agent" }), 0);
  assert.ok(service.open(heldUpdate({ agentId: "ops-agent" })));
});
