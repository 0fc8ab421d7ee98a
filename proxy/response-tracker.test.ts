import assert from "node:assert/strict";
import { test } from "node:test";
import { Backend } from "./protocol/message-codes";
import { ResponseTracker, type PendingStatement } from "./response-tracker";

function statement(text: string): PendingStatement {
  return { text, params: undefined, protocol: "simple", startedAt: 0, rows: 0, outcome: "ok", resultIndex: 0 };
}

test("a session that ends with statements unanswered records each as it stands", () => {
  const finished: PendingStatement[] = [];
  const tracker = new ResponseTracker((s) => finished.push(s));
  const failing = statement("select * from nowhere");
  const unanswered = statement("select pg_sleep(10)");
  tracker.expect({ kind: "query", statement: failing });
  tracker.expect({ kind: "query", statement: unanswered });
  // The agent leaves after the error, before its ReadyForQuery.
  tracker.onServerMessage(Backend.ErrorResponse, undefined, { code: "42P01", message: 'relation "nowhere" does not exist' });
  tracker.endOfSession("client terminated");
  assert.deepEqual(
    finished.map((s) => [s.text, s.outcome, s.errorCode, s.errorMessage]),
    [
      ["select * from nowhere", "error", "42P01", 'relation "nowhere" does not exist'],
      ["select pg_sleep(10)", "error", undefined, "the session ended before the statement completed (client terminated)"],
    ],
  );
  tracker.endOfSession("again");
  assert.equal(finished.length, 2, "nothing twice");
});

test("an extended group's messages sent after the server failed one of them are skipped unanswered, up to its Sync", () => {
  const tracker = new ResponseTracker(() => undefined);
  const outcomes: string[] = [];
  tracker.expect({ kind: "describe-statement" });
  // The server fails the Describe before the rest of the group was sent (the relay waited to judge it).
  tracker.onServerMessage(Backend.ErrorResponse, undefined, { code: "26000" });
  tracker.expect({ kind: "bind", done: (ok) => outcomes.push(`bind ${ok}`) });
  const execute = statement("delete from t");
  execute.settles = [(ok) => outcomes.push(`names ${ok}`)];
  tracker.expect({ kind: "execute", statement: execute });
  tracker.expect({ kind: "sync" });
  assert.deepEqual(outcomes, ["bind false", "names false"], "skipped at once: they change nothing");
  assert.equal(tracker.size, 1, "only the Sync waits, for its ReadyForQuery");
  tracker.onServerMessage(Backend.ReadyForQuery);
  assert.equal(tracker.size, 0);
});

test("a skipped Execute's name changes are undone, so a later lookup is not held up forever", () => {
  const tracker = new ResponseTracker(() => undefined);
  const outcomes: string[] = [];
  tracker.expect({ kind: "parse", done: (ok) => outcomes.push(`parse ${ok}`) });
  const execute = statement("deallocate s1");
  execute.settles = [(ok) => outcomes.push(`names ${ok}`)];
  tracker.expect({ kind: "execute", statement: execute });
  tracker.expect({ kind: "sync" });
  tracker.onServerMessage(Backend.ErrorResponse, undefined, { code: "42P18" });
  assert.deepEqual(outcomes, ["parse false", "names false"]);
});
