import { test } from "node:test";
import assert from "node:assert/strict";
import { ProxySessions, SHUTDOWN_TERMINATE } from "./drain";
import type { PgWireError } from "./wire-error";

function session(busyForMs: number) {
  const startedAt = Date.now();
  const ended: { err?: PgWireError; atMs?: number } = {};
  return {
    ended,
    get busy() {
      return Date.now() - startedAt < busyForMs;
    },
    terminate(err: PgWireError) {
      ended.err = err;
      ended.atMs = Date.now() - startedAt;
    },
  };
}

test("draining ends idle sessions at once, busy ones when they finish, and the rest at the limit", async () => {
  const sessions = new ProxySessions();
  const idle = session(0);
  const short = session(100);
  const long = session(60_000);
  for (const s of [idle, short, long]) sessions.add(s);
  assert.equal(sessions.draining, false);

  const started = Date.now();
  const drained = sessions.drain(400);
  assert.equal(sessions.draining, true);
  await drained;

  assert.ok(idle.ended.atMs! < 50, `idle ended after ${idle.ended.atMs} ms`);
  assert.ok(short.ended.atMs! >= 100 && short.ended.atMs! < 350, `short ended after ${short.ended.atMs} ms`);
  assert.ok(long.ended.atMs! >= 400, `long ended after ${long.ended.atMs} ms`);
  assert.ok(Date.now() - started < 600);
  for (const s of [idle, short, long]) {
    assert.equal(s.ended.err?.code, "57P01");
    assert.equal(s.ended.err?.severity, "FATAL");
    assert.equal(s.ended.err?.message, SHUTDOWN_TERMINATE);
  }
  assert.equal(sessions.size, 0);
  assert.equal(sessions.refusal().code, "57P01");
});

test("a session that ended by itself is not terminated", async () => {
  const sessions = new ProxySessions();
  const gone = session(60_000);
  sessions.add(gone)();
  await sessions.drain(50);
  assert.equal(gone.ended.err, undefined);
});
