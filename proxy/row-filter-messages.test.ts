import assert from "node:assert/strict";
import { test } from "node:test";
import type { Decision } from "../lib/decision/decide";
import type { PolicyVerdict } from "../lib/policy/evaluate";
import { readQuery } from "./protocol/reader";
import { writeBind, writeQuery } from "./protocol/writer";
import { rowFilteredMessage } from "./row-filter-messages";

const verdict = {} as PolicyVerdict;
const allow = (rewritten?: string): Decision => ({ action: "allow", verdict, rewritten });

test("a Query goes rewritten", () => {
  const { decision, raw } = rowFilteredMessage(allow("SELECT 2"), writeQuery("SELECT 1"), "SELECT 1");
  assert.equal(decision.action, "allow");
  assert.equal(readQuery(raw.subarray(5)), "SELECT 2");
});

test("a Bind runs only what its Parse sent, when that is what the decision wants now", () => {
  const bind = writeBind("", "s");
  assert.equal(rowFilteredMessage(allow("B"), bind, "A", "B").decision.action, "allow");
  assert.equal(rowFilteredMessage(allow(), bind, "A", "A").decision.action, "allow");
  // Prepared unfiltered, filtered now (a policy reload): refused.
  assert.equal(rowFilteredMessage(allow("B"), bind, "A", "A").decision.action, "refuse");
  // Prepared filtered, unfiltered now: refused too (it would run other text than decided).
  assert.equal(rowFilteredMessage(allow(), bind, "A", "B").decision.action, "refuse");
  assert.equal(rowFilteredMessage(allow("B"), bind, undefined, undefined).decision.action, "refuse");
});

test("a message that cannot carry a rewrite (a fast-path call) is refused under row filters", () => {
  const call = Buffer.from([0x46, 0, 0, 0, 4]);
  assert.equal(rowFilteredMessage(allow("SELECT 2"), call, "SELECT f()").decision.action, "refuse");
  assert.equal(rowFilteredMessage(allow(), call, "SELECT f()").decision.action, "allow");
});
