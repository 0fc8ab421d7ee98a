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
