import assert from "node:assert/strict";
import { test } from "node:test";
import pg from "pg";
import { StatementRates } from "../../lib/decision/statement-rates";
import { withPolicyProxy } from "./setup";

/**
 * statements_per_minute counts statements, not texts: a simple Query of several statements under
 * the same rule counts each of them (one text of many statements was counted once, so any rate
 * could be dodged by joining statements with `;`).
 */
const RULES = `rules:
  - name: rated
    match: { groups: [agents], kinds: [select], tables: [public.rated] }
    action: allow
    limits: { statements_per_minute: 3 }`;

const env = withPolicyProxy({ rules: RULES, fixture: "CREATE TABLE public.rated (id int); INSERT INTO public.rated VALUES (1);" });

test("a text of more statements than the rate allows is refused, and counts nothing", async () => {
  const client = new pg.Client({ connectionString: await env().harness.url("pg") });
  await client.connect();
  try {
    const four = "SELECT id FROM rated; SELECT id FROM rated; SELECT id FROM rated; SELECT id FROM rated";
    const err = await client.query(four).then(
      () => undefined,
      (e: pg.DatabaseError) => e,
    );
    assert.equal(err?.code, "53400");
    // Two statements in one text, then a third alone, fill the minute; the fourth is refused.
    await client.query("SELECT id FROM rated; SELECT id FROM rated");
    await client.query("SELECT id FROM rated");
    const next = await client.query("SELECT id FROM rated").then(
      () => undefined,
      (e: pg.DatabaseError) => e,
    );
    assert.equal(next?.code, "53400");
  } finally {
    await client.end();
  }
});

test("the retry time of a text of several statements waits until all of them fit", () => {
  let now = 0;
  const rates = new StatementRates(() => now);
  const rule = { name: "r", limits: { statementsPerMinute: 3 } } as never;
  assert.equal(rates.admit("a", "pg", [rule]), undefined); // t=0
  now = 10_000;
  assert.equal(rates.admit("a", "pg", [rule]), undefined); // t=10s
  now = 20_000;
  // Two more need one place freed: the one at 0s leaves at 60s. Three more: both, the one at 10s leaves at 70s.
  assert.equal(rates.admit("a", "pg", [rule, rule])?.retryAfterMs, 40_000);
  assert.equal(rates.admit("a", "pg", [rule, rule, rule])?.retryAfterMs, 50_000);
  // Refused texts counted nothing: one more still fits.
  assert.equal(rates.admit("a", "pg", [rule]), undefined);
  assert.equal(rates.admit("a", "pg", [rule])?.retryAfterMs, 40_000);
});
