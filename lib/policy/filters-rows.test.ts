import assert from "node:assert/strict";
import { test } from "node:test";
import { decide, type SessionIdentity } from "../decision/decide";
import { createClassifier } from "../sql/classify";
import { loadSqlParser } from "../sql/parser";
import { TEST_CATALOG } from "../sql/testing";
import { filtersRows } from "./filters-rows";
import { parsePolicy } from "./policy-file";

await loadSqlParser();

const HEAD = `resources:
  demo: { type: postgres, url: "pglite://demo" }
rules:
`;
const session: SessionIdentity = { sessionId: "s", agentId: "reporting-agent", groups: ["agents"], resource: "demo", claims: { region: "eu" } };
const classifier = createClassifier(TEST_CATALOG);
const TEXTS = ["SELECT * FROM orders", "UPDATE orders SET status = 'x'", "DELETE FROM customers", "SELECT * FROM orders o JOIN customers c ON c.id = o.customer_id"];

test("a policy without rows: filters nothing, and decide rewrites none of its statements", () => {
  const policy = parsePolicy(`${HEAD}  - { name: read, action: allow, match: { groups: [agents], kinds: [select, update, delete] } }`);
  assert.equal(filtersRows(policy), false);
  for (const text of TEXTS) {
    const decision = decide(policy, session, { text, protocol: "extended", classification: classifier.classify(text) }, undefined, TEST_CATALOG);
    assert.equal(decision.action, "allow", text);
    assert.equal("rewritten" in decision ? decision.rewritten : undefined, undefined, text);
  }
});

test("a policy with rows on any rule filters rows (asked again: the same answer, kept per policy)", () => {
  const policy = parsePolicy(`${HEAD}  - { name: deny-admin, action: deny, match: { kinds: [admin] } }
  - { name: read, action: allow, match: { groups: [agents], kinds: [select] }, rows: { public.orders: "region = {{claims.region}}" } }`);
  assert.equal(filtersRows(policy), true);
  assert.equal(filtersRows(policy), true);
  const decision = decide(policy, session, { text: TEXTS[0], protocol: "extended", classification: classifier.classify(TEXTS[0]) }, undefined, TEST_CATALOG);
  assert.ok(decision.action === "allow" && decision.rewritten, "the filtered read is rewritten");
});
