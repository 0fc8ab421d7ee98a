import { before, test } from "node:test";
import assert from "node:assert/strict";
import { loadSqlParser } from "../sql/parser";
import { requestMessage } from "../slack/blocks";
import type { RequestDecision } from "../db/schema";
import { invalidRowLimit, offersRowLimit, rowLimitOf, whyNotRowLimitable } from "./row-limit";
import { storedRequest } from "./testing";
import { REVERT_TEXT } from "./undo/types";

before(() => loadSqlParser());

const now = new Date("2025-03-01T10:00:00Z");
const write = storedRequest(now, { statements: [{ text: "update orders set status = 'paid' where id < 5", params: null }], scope: [{ kind: "update", table: "public.orders" }] });

function approval(personEmail: string, maxRows: number | null): RequestDecision {
  return { id: 1, requestId: write.id, personEmail, decision: "approve", grantMs: null, reason: null, via: "web", at: now, authAt: null, maxRows };
}

test("the smallest limit of the approvers' wins; none set, none", () => {
  assert.equal(rowLimitOf([approval("a@x", 10), approval("b@x", 3), approval("c@x", null)]), 3);
  assert.equal(rowLimitOf([approval("a@x", null)]), null);
  assert.equal(rowLimitOf([{ decision: "deny", maxRows: 1 }]), null);
});

test("a limit fits one INSERT, UPDATE, DELETE or MERGE without WITH; anything else says why", async () => {
  assert.equal(whyNotRowLimitable("delete from orders where id = 1"), undefined);
  assert.equal(whyNotRowLimitable("merge into t using s on t.id = s.id when matched then delete"), undefined);
  assert.match(whyNotRowLimitable("update a set x = 1; update b set x = 1") ?? "", /single statement/);
  assert.match(whyNotRowLimitable("with d as (delete from a returning *) select 1") ?? "", /single INSERT/);
  assert.match(whyNotRowLimitable("with d as (delete from a returning *) update b set x = 1") ?? "", /WITH clause/);
  assert.match(whyNotRowLimitable("execute w1") ?? "", /single INSERT/);
  assert.equal(await invalidRowLimit(write, 5), undefined);
  assert.equal(await invalidRowLimit(write, undefined), undefined);
  assert.match((await invalidRowLimit(write, -1)) ?? "", /whole number/);
  assert.match((await invalidRowLimit(write, 1.5)) ?? "", /whole number/);
  assert.match((await invalidRowLimit({ ...write, kind: "access" }, 5)) ?? "", /held statement/);
  assert.match((await invalidRowLimit({ ...write, statements: [...write.statements, { text: "update x set y = 1", params: null, prepared: "w1" }] }, 5)) ?? "", /prepared/);
});

test("the page offers a limit for a held write only, not for reads or a revert request", () => {
  assert.equal(offersRowLimit(write), true);
  assert.equal(offersRowLimit({ ...write, scope: [{ kind: "select", table: "public.orders" }] }), false);
  assert.equal(offersRowLimit({ ...write, statements: [{ text: `${REVERT_TEXT}r_1: …`, params: null }] }), false);
});

test("Slack's message says the limit an approver set", () => {
  const message = requestMessage({ ...write, status: "approved", decidedAt: now }, [approval("bob@example.com", 2)], "http://airlock.test/requests/r_1");
  assert.match(JSON.stringify(message.blocks), /bob@example\.com \(web, once, at most 2 rows\)/);
});
