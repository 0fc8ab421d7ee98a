import { test } from "node:test";
import assert from "node:assert/strict";
import { OWN_AT_ONCE, POST_INTERVAL_MS, PostThrottle } from "./throttle";

function throttle() {
  const clock = { now: 1_700_000_000_000 };
  return { clock, throttle: new PostThrottle(() => clock.now) };
}

test(`an agent with fewer than OWN_AT_ONCE (${OWN_AT_ONCE}) others waiting gets a message of its own at once, however often`, () => {
  const { throttle: t } = throttle();
  for (let i = 0; i < 5; i++) assert.equal(t.ownMessage("ops-agent", { own: 0, rolledUp: 0 }), true);
  for (let own = 0; own < OWN_AT_ONCE; own++) assert.equal(t.ownMessage("ops-agent", { own, rolledUp: 0 }), true);
});

test(`beyond that, at most one message of its own per agent every POST_INTERVAL_MS (${POST_INTERVAL_MS} ms)`, () => {
  const { clock, throttle: t } = throttle();
  assert.equal(t.ownMessage("ops-agent", { own: OWN_AT_ONCE - 1, rolledUp: 0 }), true);
  assert.equal(t.ownMessage("ops-agent", { own: OWN_AT_ONCE, rolledUp: 0 }), false);
  clock.now += POST_INTERVAL_MS - 1;
  assert.equal(t.ownMessage("ops-agent", { own: OWN_AT_ONCE, rolledUp: 0 }), false);
  clock.now += 1;
  assert.equal(t.ownMessage("ops-agent", { own: OWN_AT_ONCE, rolledUp: 0 }), true);
  assert.equal(t.ownMessage("ops-agent", { own: OWN_AT_ONCE + 1, rolledUp: 0 }), false, "the interval starts again");
});

test("while its summary counts requests, an agent's new ones join it, however late and however few are waiting", () => {
  const { clock, throttle: t } = throttle();
  clock.now += 60 * POST_INTERVAL_MS;
  assert.equal(t.ownMessage("ops-agent", { own: 0, rolledUp: 1 }), false);
  assert.equal(t.ownMessage("ops-agent", { own: 3, rolledUp: 17 }), false);
});

test("agents are throttled apart: one agent's burst never holds back another's message", () => {
  const { throttle: t } = throttle();
  assert.equal(t.ownMessage("ops-agent", { own: OWN_AT_ONCE - 1, rolledUp: 0 }), true);
  assert.equal(t.ownMessage("ops-agent", { own: OWN_AT_ONCE, rolledUp: 0 }), false);
  assert.equal(t.ownMessage("reporting-agent", { own: 0, rolledUp: 0 }), true);
});
