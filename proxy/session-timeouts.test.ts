import { test } from "node:test";
import assert from "node:assert/strict";
import { TxStatus } from "./protocol/message-codes";
import { writeReadyForQuery } from "./protocol/writer";
import { ReadyForQueryCounter, StartupDeadline } from "./session-timeouts";
import { PgWireError } from "./wire-error";

test("ReadyForQuery is found by headers alone, whatever the chunks, bodies skipped", () => {
  const dataRow = Buffer.concat([Buffer.from([0x44, 0, 0, 0, 11]), Buffer.from("Z\0\0\0\x05I\0")]); // a row whose bytes look like one
  const stream = Buffer.concat([dataRow, writeReadyForQuery(TxStatus.InTransaction), dataRow, writeReadyForQuery(TxStatus.Idle), writeReadyForQuery(TxStatus.Failed)]);
  for (const size of [1, 2, 5, 7, stream.length]) {
    const counter = new ReadyForQueryCounter();
    for (let i = 0; i < stream.length; i += size) counter.feed(stream.subarray(i, i + size));
    assert.equal(counter.count, 3, `chunks of ${size}`);
    assert.equal(counter.status, TxStatus.Failed);
  }
});

test("a startup step still pending when the deadline passes fails with 57014", async () => {
  const deadline = new StartupDeadline(50);
  const never = new Promise<never>(() => undefined);
  await assert.rejects(deadline.within(never), (err: unknown) => err instanceof PgWireError && err.code === "57014" && err.severity === "FATAL");
  const cleared = new StartupDeadline(50);
  cleared.clear();
  assert.equal(await cleared.within(new Promise((r) => setTimeout(() => r("done"), 100))), "done");
});
