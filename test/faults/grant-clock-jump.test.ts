/**
 * Issue 23, the wall clock jumps (an NTP step, a VM resumed, an operator's `date -s`) while grants
 * are in force. A grant lasts what it was granted for, whichever way the clock goes: a jump
 * forward past its expiry ends it at once (at the next statement, not when a timer fires), and a
 * jump backward neither lengthens it past its stored expiry nor brings back one that ended, not
 * even when the grants in force are read again from the store. The real GrantStore on a real
 * SQLite store in a temp dir; only `Date` is faked (node:test mock.timers), so the process's
 * monotonic clock and its timers run as they would on a host whose wall clock was stepped.
 */
import { afterEach, beforeEach, mock, test } from "node:test";
import assert from "node:assert/strict";
import { GrantStore, type Scope } from "../../lib/approvals/grants";
import { openTestStore, type TestStore } from "../support/store";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const TEST_TIMEOUT = { timeout: 30_000 };
/** The short grants that real time runs out (ample for the checks made while they are in force, on a loaded machine). */
const GRANTED_MS = 3_000;
const statement: Scope = { agentId: "reporting-agent", resource: "pg", pairs: [{ kind: "update", table: "public.counters" }] };

let t: TestStore;
let grants: GrantStore;

beforeEach(async () => {
  t = await openTestStore();
  grants = new GrantStore(t.store);
  await grants.load();
});
afterEach(async () => {
  mock.timers.reset();
  grants.close();
  await t.close();
});

function grantFor(ms: number) {
  const now = Date.now();
  return grants.create({
    agentId: statement.agentId,
    resource: statement.resource,
    scope: [{ kind: "update", table: "public.counters" }],
    rule: "writes",
    requestId: "r_clock",
    approvedBy: ["alice@example.com"],
    createdAt: new Date(now),
    expiresAt: new Date(now + ms),
  });
}

/** Waits on the process's timers, which the fake `Date` leaves alone: real time passes, the wall clock does not. */
const realWait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test("a jump forward past expiry ends the grant at once, and setting the clock right does not bring it back", TEST_TIMEOUT, async () => {
  const start = Date.now();
  mock.timers.enable({ apis: ["Date"], now: start });
  const grant = await grantFor(10 * MINUTE);
  assert.equal(grants.covering(statement)?.id, grant.id);

  mock.timers.setTime(start + 11 * MINUTE);
  assert.equal(grants.covering(statement), undefined, "expired as soon as the clock says so, no timer needed");

  // The step was a mistake and is undone: the grant ended and stays ended (fail closed).
  mock.timers.setTime(start + MINUTE);
  assert.equal(grants.covering(statement), undefined, "not resurrected when the clock goes back");
  await grants.load(); // the grants in force read again, as every GRANT_RELOAD_MS
  assert.equal(grants.covering(statement), undefined, "not resurrected by the store, which sees it unexpired");
  assert.equal((await grants.active()).length, 1, "the store's row is as it was (it is memory that remembers the end)");
});

test("a jump backward does not lengthen a grant past the time it was granted for", TEST_TIMEOUT, async () => {
  const grant = await grantFor(GRANTED_MS);
  const madeAt = performance.now();
  mock.timers.enable({ apis: ["Date"], now: Date.now() - HOUR });
  assert.equal(grants.covering(statement)?.id, grant.id, "still in force just after the jump");

  // The wall clock now says the grant has an hour and three seconds left; three seconds is what was granted.
  await realWait(Math.max(0, madeAt + GRANTED_MS - performance.now()) + 200);
  await grants.load();
  assert.equal(grants.covering(statement), undefined, "ended when its time ran out, though the clock says it has an hour left");
  await realWait(50);
  assert.equal(grants.covering(statement), undefined);
});

test("a grant that ended is not resurrected by a jump backward, nor by the store read after it", TEST_TIMEOUT, async () => {
  await grantFor(500);
  await realWait(700);
  assert.equal(grants.covering(statement), undefined, "expired on time");

  mock.timers.enable({ apis: ["Date"], now: Date.now() - HOUR });
  assert.equal(grants.covering(statement), undefined, "a clock an hour behind does not revive it");
  await grants.load();
  assert.equal(grants.covering(statement), undefined, "nor does reading the grants in force, which the store now calls unexpired");
  await grants.coveringInStore(statement);
  assert.equal(grants.covering(statement), undefined, "nor does asking the store directly");
});

test("a grant read from the store when its instance starts keeps its own deadline across a jump backward", TEST_TIMEOUT, async () => {
  const grant = await grantFor(GRANTED_MS);
  // Another instance (a restart) learns of it from the store only.
  const other = new GrantStore(t.store);
  try {
    await other.load();
    const madeAt = performance.now();
    assert.equal(other.covering(statement)?.id, grant.id);
    mock.timers.enable({ apis: ["Date"], now: Date.now() - HOUR });
    await realWait(Math.max(0, madeAt + GRANTED_MS - performance.now()) + 200);
    assert.equal(other.covering(statement), undefined);
    await other.load();
    assert.equal(other.covering(statement), undefined);
  } finally {
    other.close();
  }
});
