import { test } from "node:test";
import assert from "node:assert/strict";
import { deadline, MAX_WAIT_SECONDS, parseWait, WaitLimiter } from "./waits";

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

test("a deadline aborts on time or with its outer signal, and done() stops it", async () => {
  const timed = deadline(20);
  await new Promise((r) => setTimeout(r, 40));
  assert.equal(timed.signal.aborted, true);
  const outer = new AbortController();
  const early = deadline(10_000, outer.signal);
  outer.abort();
  assert.equal(early.signal.aborted, true);
  early.done();
  const stopped = deadline(20);
  stopped.done();
  await new Promise((r) => setTimeout(r, 40));
  assert.equal(stopped.signal.aborted, false);
});
