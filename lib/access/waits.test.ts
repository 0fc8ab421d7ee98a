import { test } from "node:test";
import assert from "node:assert/strict";
import { MAX_WAIT_SECONDS, parseWait, WaitLimiter } from "./waits";

test("?wait= is seconds from 0, cut to MAX_WAIT_SECONDS", () => {
  assert.deepEqual(parseWait(null), { ok: true, seconds: 0 });
  assert.deepEqual(parseWait("25"), { ok: true, seconds: 25 });
  assert.deepEqual(parseWait("3600"), { ok: true, seconds: MAX_WAIT_SECONDS });
  assert.equal(MAX_WAIT_SECONDS, 30);
  assert.equal(parseWait("-1").ok, false);
  assert.equal(parseWait("soon").ok, false);
});

test("an agent holds at most the configured number of waits; releasing twice frees one place", () => {
  const limiter = new WaitLimiter(2);
  const a = limiter.enter("agent")!;
  const b = limiter.enter("agent")!;
  assert.equal(limiter.enter("agent"), undefined);
  assert.ok(limiter.enter("other"), "other agents are counted apart");
  a();
  a();
  assert.equal(limiter.waiting("agent"), 1);
  assert.ok(limiter.enter("agent"));
  b();
});
