import { test } from "node:test";
import assert from "node:assert/strict";
import { ALL_TABLES } from "../approvals/grant-scope";
import { parsePolicy } from "../policy/policy-file";
import type { Kind } from "../sql/types";
import { accessTerms } from "./rules";
import { ACCESS_LEVELS } from "./scope";

const policy = parsePolicy(`resources:
  demo: { type: postgres, url: "pglite://demo" }
rules:
  - name: never-admin
    match: { kinds: [admin, privilege] }
    action: deny
  - name: never-functions
    match: { functions: [pg_read_file] }
    action: deny
  - name: agents-read
    match: { groups: [agents], kinds: [select, copy_out] }
    action: allow
  - name: payroll
    match: { groups: [agents], tables: [payroll], kinds: [insert] }
    action: review
    review: { approvers: [finance] }
  - name: customers-write
    match: { groups: [agents], tables: [customers], kinds: [update, delete] }
    action: review
    review: { approvers: [db-approvers], count: 2 }
    access: { max: 1h, reason: required }
  - name: agents-write
    match: { groups: [agents], kinds: [insert, update, delete, merge, copy_in] }
    action: review
    review: { approvers: [db-approvers, team-leads] }
    access: { max: 4h }
  - name: schema
    match: { groups: [agents], kinds: [ddl, truncate] }
    action: review
    review: { approvers: [db-approvers] }
    access: { max: 30m, timeout: 5m }
`);
const agent = { agentId: "reporting-agent", groups: ["agents"], resource: "demo" };
const terms = (kinds: readonly Kind[], tables: string[] = [ALL_TABLES], who = agent) => accessTerms(policy, who, { kinds: [...kinds], tables });

test("write on named tables answers to the rules that review such writes", () => {
  assert.deepEqual(terms(ACCESS_LEVELS.write, ["public.orders"]), {
    ok: true,
    terms: { rules: ["agents-write"], approvers: ["db-approvers", "team-leads"], count: 1, maxMs: 4 * 3_600_000, timeoutMs: 600_000, reasonRequired: false },
  });
});

test("on every table, a rule about some tables governs too: the strictest terms of all, approvers they share", () => {
  const t = terms(["update"], [ALL_TABLES]);
  assert.ok(t.ok);
  assert.deepEqual(t.terms, { rules: ["customers-write", "agents-write"], approvers: ["db-approvers"], count: 2, maxMs: 3_600_000, timeoutMs: 600_000, reasonRequired: true });
  const named = terms(["update"], ["public.customers"]);
  assert.ok(named.ok);
  assert.deepEqual(named.terms.rules, ["customers-write"], "a rule that decides every statement asked for ends the walk");
});

test("a review rule without access options makes the request impossible, naming it", () => {
  const t = terms(["insert"], [ALL_TABLES]);
  assert.deepEqual(t.ok ? undefined : [t.code, t.message.startsWith("rule payroll reviews")], ["not_allowed", true]);
  assert.ok(terms(["insert"], ["public.orders"]).ok, "on other tables it is not in the way");
});

test("what policy allows needs no request; what it denies no grant allows", () => {
  const read = terms(ACCESS_LEVELS.read, ["public.orders"]);
  assert.equal(!read.ok && read.code, "already_allowed");
  const admin = terms(["admin"]);
  assert.equal(!admin.ok && admin.code, "not_allowed");
  const stranger = terms(["update"], ["public.orders"], { ...agent, groups: ["ops"] });
  assert.equal(!stranger.ok && stranger.code, "not_allowed", "no rule matches other groups: denied");
});

test("admin answers to both write and schema rules: the shortest max of the two", () => {
  const t = terms(ACCESS_LEVELS.admin, ["public.orders"]);
  assert.ok(t.ok);
  assert.deepEqual([t.terms.rules, t.terms.maxMs, t.terms.timeoutMs, t.terms.approvers], [["agents-write", "schema"], 30 * 60_000, 5 * 60_000, ["db-approvers"]]);
});
