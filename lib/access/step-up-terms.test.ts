import { test } from "node:test";
import assert from "node:assert/strict";
import { parsePolicy } from "../policy/policy-file";
import type { Kind } from "../sql/types";
import { accessTerms } from "./rules";

const policy = parsePolicy(`resources:
  demo: { type: postgres, url: "pglite://demo" }
rules:
  - name: customers-write
    match: { groups: [agents], tables: [customers], kinds: [update] }
    action: review
    review: { approvers: [db-approvers], step_up: 10m }
    access: { max: 1h }
  - name: agents-write
    match: { groups: [agents], kinds: [insert, update, delete] }
    action: review
    review: { approvers: [db-approvers], step_up: 5m }
    access: { max: 4h }
  - name: schema
    match: { groups: [agents], kinds: [ddl] }
    action: review
    review: { approvers: [db-approvers] }
    access: { max: 30m }
`);
const agent = { agentId: "reporting-agent", groups: ["agents"], resource: "demo" };
const stepUp = (kinds: Kind[], tables: string[]) => {
  const result = accessTerms(policy, agent, { kinds, tables });
  assert.ok(result.ok, JSON.stringify(result));
  return result.terms.stepUpMs;
};

test("an access request takes its rules' step-up: the shortest of those it answers to, none when none asks", () => {
  assert.equal(stepUp(["update"], ["public.customers"]), 10 * 60_000, "customers-write alone governs it");
  assert.equal(stepUp(["update", "insert"], ["public.customers"]), 5 * 60_000, "customers-write (10m) and agents-write (5m) both govern it");
  assert.equal(stepUp(["insert"], ["public.orders"]), 5 * 60_000);
  assert.equal(stepUp(["ddl"], ["public.orders"]), undefined);
});
