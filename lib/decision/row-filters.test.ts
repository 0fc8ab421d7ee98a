import assert from "node:assert/strict";
import { test } from "node:test";
import { explain } from "../policy/explain";
import { parsePolicy } from "../policy/policy-file";
import { createClassifier } from "../sql/classify";
import { loadSqlParser } from "../sql/parser";
import { TEST_CATALOG } from "../sql/testing";
import { decide, type SessionIdentity } from "./decide";

await loadSqlParser();

const POLICY = parsePolicy(`resources:
  demo: { type: postgres, url: "pglite://demo" }
rules:
  - name: read
    action: allow
    match: { groups: [agents], kinds: [select, update] }
    rows: { public.orders: "region = {{claims.region}}", public.customers: "team = any({{groups}})" }`);

const classifier = createClassifier(TEST_CATALOG);
const session: SessionIdentity = { sessionId: "s", agentId: "reporting-agent", groups: ["agents"], resource: "demo", claims: { region: "eu" } };

function decided(text: string, who = session) {
  return decide(POLICY, who, { text, protocol: "simple", classification: classifier.classify(text) }, undefined, TEST_CATALOG);
}

test("an allowed statement carries its rewritten text", () => {
  const d = decided("SELECT id FROM orders; SELECT 1");
  assert.equal(d.action, "allow");
  assert.equal(d.action === "allow" && d.rewritten, `SELECT id FROM (SELECT * FROM "public"."orders" AS airlock_rows WHERE ("airlock_rows".region OPERATOR(pg_catalog.=) E'eu') OFFSET 0) AS "orders"\n;\nSELECT 1`);
});

test("a statement on no filtered table runs as it is", () => {
  const d = decided("SELECT * FROM products");
  assert.equal(d.action === "allow" && d.rewritten, undefined);
});

test("what cannot be rewritten is refused with the rule and the reason", () => {
  for (const [text, why] of [
    ["SELECT * FROM daily_totals", /rule read filters rows: view public.daily_totals reads public.orders/],
    ["UPDATE orders SET region = 'us'", /column region/],
    ["SELECT * FROM orders", /claim "region"/],
  ] as const) {
    const d = decided(text, text === "SELECT * FROM orders" ? { ...session, claims: {} } : session);
    assert.equal(d.action, "refuse", text);
    assert.match(d.action === "refuse" ? d.message : "", why);
  }
});

test("the explanation shows the statement as it runs, claims as placeholders", () => {
  const who = { agentId: "reporting-agent", groups: ["agents"], resource: "demo" };
  const [statement] = explain(POLICY, who, classifier.classify("SELECT * FROM orders o"), TEST_CATALOG).statements;
  assert.equal(statement.rowFilters?.rewritten, `SELECT * FROM (SELECT * FROM "public"."orders" AS airlock_rows WHERE ("airlock_rows".region OPERATOR(pg_catalog.=) E'{{claims.region}}') OFFSET 0) o`);
  const [refused] = explain(POLICY, who, classifier.classify("SELECT * FROM daily_totals"), TEST_CATALOG).statements;
  assert.match(refused.rowFilters?.refused ?? "", /view public.daily_totals/);
});
