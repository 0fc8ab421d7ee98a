import { test } from "node:test";
import assert from "node:assert/strict";
import { MAX_REMEMBERED, REPLAY_WINDOW_MS, ReplayGuard, requestKeys } from "./replays";

const click = { type: "block_actions", trigger_id: "171.1.U0BOB", actions: [{ action_id: "airlock.approve.once" }] };

function clock(start = 1_700_000_000_000) {
  const at = { now: start };
  return { at, guard: () => new ReplayGuard(() => at.now) };
}

test("the same signed request is new once, then a replay until Bolt's window would refuse it anyway", () => {
  const { at, guard: make } = clock();
  const guard = make();
  const ts = at.now / 1000;
  const keys = requestKeys("v0=aa", ts, click);
  assert.equal(guard.check(keys, ts), "new");
  assert.equal(guard.check(keys, ts), "replay");
  at.now += REPLAY_WINDOW_MS - 1;
  assert.equal(guard.check(keys, ts), "replay");
  at.now += 1;
  assert.equal(guard.check(keys, ts), "new", "forgotten once the window is over (Bolt refuses the stale timestamp by then)");
});

test("the same interaction signed anew (another timestamp) is a replay; another click of the same person is not", () => {
  const { at, guard: make } = clock();
  const guard = make();
  const ts = at.now / 1000;
  assert.equal(guard.check(requestKeys("v0=aa", ts, click), ts), "new");
  assert.equal(guard.check(requestKeys("v0=bb", ts + 1, click), ts + 1), "replay");
  assert.equal(guard.check(requestKeys("v0=cc", ts + 2, { ...click, trigger_id: "172.1.U0BOB" }), ts + 2), "new");
  assert.equal(guard.check(requestKeys("v0=dd", ts + 2, { ...click, actions: [{ action_id: "airlock.deny" }] }), ts + 2), "new", "another button of the same message");
});

test("a payload without a trigger id is known by its signature alone", () => {
  assert.deepEqual(requestKeys("v0=aa", 1, { type: "url_verification" }), ["signed:1:v0=aa"]);
  assert.deepEqual(requestKeys("v0=aa", 1, "not an object"), ["signed:1:v0=aa"]);
  assert.deepEqual(requestKeys("v0=aa", 1, click), ["signed:1:v0=aa", "interaction:block_actions:171.1.U0BOB:airlock.approve.once"]);
  // Found by the body fuzz: String() of such a type threw, and the request was answered 500.
  assert.deepEqual(requestKeys("v0=aa", 1, { ...click, type: { toString: "x" }, actions: [null] }), ["signed:1:v0=aa", "interaction::171.1.U0BOB:"]);
});

test("a timestamp ahead of the clock is remembered until five minutes after it", () => {
  const { at, guard: make } = clock();
  const guard = make();
  const ahead = at.now / 1000 + 600;
  const keys = requestKeys("v0=aa", ahead, click);
  assert.equal(guard.check(keys, ahead), "new");
  at.now += 10 * 60_000;
  assert.equal(guard.check(keys, ahead), "replay");
});

test(`at most MAX_REMEMBERED (${MAX_REMEMBERED}) keys: full of live ones, new requests are refused; expired ones make room`, () => {
  const { at, guard: make } = clock();
  const guard = make();
  const ts = at.now / 1000;
  for (let i = 0; i < MAX_REMEMBERED; i++) assert.equal(guard.check([`k${i}`], ts), "new");
  assert.equal(guard.size, MAX_REMEMBERED);
  assert.equal(guard.check(["one-more"], ts), "full", "fails closed rather than forget a request that could then be replayed");
  assert.equal(guard.check(["k0"], ts), "replay", "what it remembers is still refused");
  at.now += REPLAY_WINDOW_MS;
  assert.equal(guard.check(["one-more"], at.now / 1000), "new");
  assert.equal(guard.size, 1, "the expired ones are gone");
});
