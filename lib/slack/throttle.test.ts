import { test } from "node:test";
import assert from "node:assert/strict";
import { OWN_AT_ONCE, POST_INTERVAL_MS, ownMessage } from "./throttle";

const now = 1_700_000_000_000;

test(`an agent with fewer than OWN_AT_ONCE (${OWN_AT_ONCE}) others waiting gets a message of its own at once, however often`, () => {
  for (let own = 0; own < OWN_AT_ONCE; own++) assert.equal(ownMessage({ own, rolledUp: 0, lastOwnAt: now }, now), true);
});

test(`beyond that, at most one message of its own per agent every POST_INTERVAL_MS (${POST_INTERVAL_MS} ms)`, () => {
  const waiting = { own: OWN_AT_ONCE, rolledUp: 0 };
  assert.equal(ownMessage({ ...waiting, lastOwnAt: now }, now), false);
  assert.equal(ownMessage({ ...waiting, lastOwnAt: now }, now + POST_INTERVAL_MS - 1), false);
  assert.equal(ownMessage({ ...waiting, lastOwnAt: now }, now + POST_INTERVAL_MS), true);
  assert.equal(ownMessage({ ...waiting, lastOwnAt: undefined }, now), true, "none of the agent's requests had a message of its own");
});

test("while its summary counts requests, an agent's new ones join it, however late and however few are waiting", () => {
  assert.equal(ownMessage({ own: 0, rolledUp: 1, lastOwnAt: undefined }, now), false);
  assert.equal(ownMessage({ own: 3, rolledUp: 17, lastOwnAt: now - 60 * POST_INTERVAL_MS }, now), false);
});
