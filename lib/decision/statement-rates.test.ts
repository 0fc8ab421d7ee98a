import assert from "node:assert/strict";
import { test } from "node:test";
import { StatementRates } from "./statement-rates";

const rule = (name: string, statementsPerMinute: number) => ({ name, limits: { statementsPerMinute, onLimit: "error" as const } });

test("statements_per_minute is a sliding minute per agent, resource and rule", () => {
  let now = 1_000_000;
  const rates = new StatementRates(() => now);
  const r = rule("r", 3);
  for (let i = 0; i < 3; i++, now += 10_000) assert.equal(rates.admit("a", "db", [r]), undefined);
  // 30 s after the first: the first leaves the minute 30 s from now.
  assert.deepEqual(rates.admit("a", "db", [r]), { rule: "r", limit: 3, retryAfterMs: 30_000 });
  assert.equal(rates.admit("b", "db", [r]), undefined, "another agent counts apart");
  assert.equal(rates.admit("a", "other", [r]), undefined, "another resource counts apart");
  assert.equal(rates.admit("a", "db", [rule("s", 3)]), undefined, "another rule counts apart");
  now += 30_000;
  assert.equal(rates.admit("a", "db", [r]), undefined, "the first statement left the minute");
  assert.ok(rates.admit("a", "db", [r]), "and the window is full again");
});

test("a refused statement is not counted, under any of its rules", () => {
  let now = 0;
  const rates = new StatementRates(() => now);
  const tight = rule("tight", 1);
  const loose = rule("loose", 2);
  assert.equal(rates.admit("a", "db", [tight, loose]), undefined);
  assert.ok(rates.admit("a", "db", [tight, loose]));
  assert.equal(rates.admit("a", "db", [loose]), undefined, "the refusal did not count under loose");
  now += 60_000;
  assert.equal(rates.admit("a", "db", [tight]), undefined);
});
