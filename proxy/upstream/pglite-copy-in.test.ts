import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { MessageBuffer } from "../protocol/message-buffer";
import { Frontend } from "../protocol/message-codes";
import { readFields } from "../protocol/reader";
import { writeCopyData, writeQuery } from "../protocol/writer";
import { PgWireError } from "../wire-error";
import { MAX_GATHERED_COPY_BYTES, PgliteCopyIn } from "./pglite-copy-in";

const COPY = writeQuery("copy refunds from stdin");
const COPY_DONE = Buffer.from([Frontend.CopyDone, 0, 0, 0, 4]);

function messages(batch: Buffer): Array<{ type: string; body: Buffer }> {
  const buffer = new MessageBuffer(Number.MAX_SAFE_INTEGER);
  buffer.push(batch);
  const out = [];
  for (let m = buffer.next(); m; m = buffer.next()) out.push({ type: String.fromCharCode(m.type), body: m.body });
  return out;
}

describe("PgliteCopyIn", () => {
  test("COPY data past the bound fails the COPY in its batch, and the rest of the agent's COPY is dropped", () => {
    const copyIn = new PgliteCopyIn();
    const replies: Buffer[] = [];
    assert.deepEqual(copyIn.outgoing(COPY, (r) => replies.push(r)), []);
    assert.equal(String.fromCharCode(replies[0][0]), "G", "the agent is told to send its data");
    const chunk = writeCopyData(Buffer.alloc(1024 * 1024, 0x61));
    const ready: Buffer[] = [];
    for (let sent = 0; sent <= MAX_GATHERED_COPY_BYTES + chunk.length; sent += chunk.length) ready.push(...copyIn.outgoing(chunk, () => undefined));
    assert.equal(ready.length, 1, "one batch for PGlite, ended at the bound");
    const batch = messages(ready[0]);
    assert.equal(batch[0].type, "Q");
    assert.equal(batch.at(-1)?.type, "f", "ends in CopyFail");
    assert.match(batch.at(-1)?.body.toString() ?? "", /COPY data over 64 MB/);
    assert.ok(ready[0].length <= MAX_GATHERED_COPY_BYTES + 200);
    assert.deepEqual(copyIn.outgoing(Buffer.concat([chunk, COPY_DONE]), () => undefined), [], "the agent's remaining data and CopyDone are dropped");
    const next = writeQuery("select 1");
    assert.deepEqual(copyIn.outgoing(next, () => undefined), [next], "then the session goes on");
  });

  test("another message during the COPY is answered as PostgreSQL answers it, and ends the session", () => {
    const copyIn = new PgliteCopyIn();
    const replies: Buffer[] = [];
    copyIn.outgoing(COPY, (r) => replies.push(r));
    assert.throws(
      () => copyIn.outgoing(Buffer.concat([writeCopyData(Buffer.from("1\t1\tx\n")), writeQuery("select 1")]), (r) => replies.push(r)),
      (err: unknown) => err instanceof PgWireError && err.severity === "FATAL" && err.code === "08P01" && /protocol synchronization was lost/.test(err.message),
    );
    const [error] = messages(replies[1]);
    assert.equal(error.type, "E");
    assert.equal(readFields(error.body).get("M"), "unexpected message type 0x51 during COPY from stdin");
  });
});
