import assert from "node:assert/strict";
import { test } from "node:test";
import { limitNote, refusals, truncationNotice, type Refusal } from "./refusals";

/** One call of every kind of refusal, with arguments as the proxy passes them. */
const EVERY_KIND: { [K in keyof typeof refusals]: () => Refusal } = {
  deniedByRule: () => refusals.deniedByRule("never-admin", "admin (ALTER SYSTEM)"),
  noRule: () => refusals.noRule("no rule allows update on public.orders"),
  binaryCopyMasked: () => refusals.binaryCopyMasked(),
  fastPathUnmaskable: () => refusals.fastPathUnmaskable(),
  fastPathUnknown: () => refusals.fastPathUnknown(1234),
  unjudgedPortal: () => refusals.unjudgedPortal("executes a portal Airlock did not see bound"),
  judgingFailed: () => refusals.judgingFailed(),
  sharedCopyInExtended: () => refusals.sharedCopyInExtended(),
  cannotWait: () => refusals.cannotWait("agents-write", "and on this shared embedded database a statement cannot wait inside a transaction"),
  approvalRequired: () => refusals.approvalRequired("agents-write", "req_1", "http://airlock.test/requests/req_1"),
  rowLimitUnfit: () => refusals.rowLimitUnfit(10, "it is a multi-statement text"),
  deniedByPerson: () => refusals.deniedByPerson("alice@example.com", "not during the freeze"),
  approvalTimedOut: () => refusals.approvalTimedOut(),
  requestCancelled: () => refusals.requestCancelled("req_1", "the agent disconnected"),
  approvalStoreDown: () => refusals.approvalStoreDown(),
  tooManyPending: () => refusals.tooManyPending("airlock: reporting-agent already has 5 requests waiting"),
  auditUnwritable: () => refusals.auditUnwritable(),
  rate: () => refusals.rate("agents-read", 600, 12),
  limit: () => refusals.limit("max_rows", 10000, "agents-read"),
};

test("every refusal kind names what happened and carries a hint saying what to do instead", () => {
  for (const [kind, make] of Object.entries(EVERY_KIND)) {
    const refusal = make();
    assert.match(refusal.message, /^airlock: /, kind);
    assert.match(refusal.code, /^[0-9A-Z]{5}$/, kind);
    assert.ok(refusal.hint.length >= 20 && /[.)]$/.test(refusal.hint), `${kind}: a sentence of advice, got ${JSON.stringify(refusal.hint)}`);
    assert.ok(!refusal.message.includes(refusal.hint), `${kind}: the hint adds to the message`);
  }
});

test("refusals name the rule, the part of the statement, the limit", () => {
  assert.match(refusals.deniedByRule("never-admin", "admin (ALTER SYSTEM)").message, /rule never-admin.*ALTER SYSTEM/);
  assert.match(refusals.approvalRequired("agents-write", "req_1", "u").hint, /airlock request status req_1/);
  assert.match(refusals.cannotWait("agents-write", "x").hint, /need approval.*airlock request/);
  assert.deepEqual(refusals.limit("max_rows", 10000, "agents-read"), {
    code: "54000",
    message: "airlock: max_rows 10000 of rule agents-read reached; the statement failed",
    hint: "Add a LIMIT, a narrower WHERE, or aggregate (count, sum, GROUP BY) so fewer rows come back; page through with LIMIT/OFFSET or a keyset.",
  });
  assert.equal(refusals.limit("statement_timeout", 30_000, "r").code, "57014");
  assert.match(refusals.limit("max_result_bytes", 50_000_000, "r").message, /max_result_bytes 50MB/);
  assert.match(refusals.rate("r", 600, 12).message, /retry in 12s/);
  assert.match(truncationNotice("max_rows", 5, "r").message, /truncated/);
});

test("the Sessions page reads a limit hit back from the recorded message", () => {
  assert.equal(limitNote(refusals.limit("max_rows", 10000, "r").message), "max_rows 10000");
  assert.equal(limitNote(refusals.limit("statement_timeout", 30_000, "r").message), "statement_timeout 30s");
  assert.equal(limitNote(refusals.rate("r", 600, 3).message), "statements_per_minute 600");
  assert.equal(limitNote(truncationNotice("max_result_bytes", 50_000_000, "r").message), "max_result_bytes 50MB (truncated)");
  assert.equal(limitNote(refusals.deniedByRule("r", "x").message), undefined);
  assert.equal(limitNote(null), undefined);
});
