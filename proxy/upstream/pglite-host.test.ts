import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { MessageBuffer } from "../protocol/message-buffer";
import { Backend } from "../protocol/message-codes";
import { BodyReader } from "../protocol/reader";
import { SYNC, writeBind, writeExecute, writeParse, writeQuery } from "../protocol/writer";
import { PgWireError } from "../wire-error";
import { PgliteHost } from "./pglite-host";
import type { Upstream } from "./upstream";

/**
 * The host's turn-taking on one real PGlite engine, driven message by message with no proxy in
 * between, so the interleavings that a fuzzer found by chance are written out exactly.
 */
const dir = mkdtempSync(path.join(tmpdir(), "airlock-pglite-host-"));
let host: PgliteHost;

before(async () => {
  host = new PgliteHost(dir, "turns", { idleInTransactionTimeoutMs: 1000 });
  await host.ready;
});
after(async () => {
  await host.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A session on the host and everything it has been answered, as messages. */
async function session(): Promise<{ upstream: Upstream; answers: Answers; closed: Promise<Error | undefined> }> {
  const upstream = await host.connect(new Map());
  const answers = new Answers();
  upstream.onData((chunk) => answers.push(chunk));
  const closed = new Promise<Error | undefined>((resolve) => upstream.onClose(resolve));
  return { upstream, answers, closed };
}

class Answers {
  readonly #buffer = new MessageBuffer(Number.MAX_SAFE_INTEGER);
  readonly rows: string[][] = [];
  readonly readyStates: string[] = [];
  readonly errors: string[] = [];
  #waiters: Array<() => void> = [];

  push(chunk: Buffer): void {
    this.#buffer.push(chunk);
    for (let m = this.#buffer.next(); m; m = this.#buffer.next()) {
      if (m.type === Backend.DataRow) this.rows.push(dataRow(m.body));
      if (m.type === Backend.ErrorResponse) this.errors.push(m.body.toString("utf8"));
      if (m.type === Backend.ReadyForQuery) this.readyStates.push(String.fromCharCode(m.body[0]));
    }
    for (const wake of this.#waiters.splice(0)) wake();
  }

  /** Resolves once `count` ReadyForQuery messages have arrived in all. */
  async ready(count: number): Promise<void> {
    while (this.readyStates.length < count) await new Promise<void>((resolve) => this.#waiters.push(resolve));
  }
}

function dataRow(body: Buffer): string[] {
  const reader = new BodyReader(body);
  const values: string[] = [];
  for (let n = reader.readInt16(); n > 0; n--) {
    const length = reader.readInt32();
    values.push(length < 0 ? "NULL" : reader.readBytes(length).toString("utf8"));
  }
  return values;
}

/** The answer reaches a session before its batch's end does: give the host time to end the turn. */
const turnEnded = () => new Promise((resolve) => setTimeout(resolve, 100));

const PREPARED = "select name from pg_catalog.pg_prepared_statements order by name";

describe("PgliteHost: turns on the shared engine", () => {
  test("a session's bytes that arrive while the engine changes hands to it run in its own state, not the last one's", async () => {
    const a = await session();
    a.upstream.write(Buffer.concat([writeParse("a_secret", "select 'from a'"), SYNC]));
    await a.answers.ready(1);
    await turnEnded();

    // B's first bytes start the change of hands; its next bytes arrive while A is being captured.
    const b = await session();
    b.upstream.write(writeQuery("begin"));
    b.upstream.write(writeQuery(PREPARED));
    b.upstream.write(writeQuery("rollback"));
    await b.answers.ready(3);
    assert.deepEqual(b.answers.errors, []);
    assert.deepEqual(b.answers.rows, [], "B saw none of A's prepared statements");
    assert.deepEqual(b.answers.readyStates, ["T", "T", "I"]);

    // And A, back on the engine, still has its own statement and nothing of B's.
    a.upstream.write(writeQuery(PREPARED));
    await a.answers.ready(2);
    assert.deepEqual(a.answers.rows, [["a_secret"]]);
    a.upstream.close();
    b.upstream.close();
  });

  test("a session that never opened a transaction is never held in another's", async () => {
    const a = await session();
    const b = await session();
    a.upstream.write(Buffer.concat([writeParse("a_kept", "select 1"), SYNC]));
    await a.answers.ready(1);
    for (let i = 1; i <= 20; i++) {
      // A opens a transaction while B's query waits for the engine, and both keep writing.
      a.upstream.write(writeQuery("begin"));
      b.upstream.write(writeQuery("select 1"));
      a.upstream.write(writeQuery("select 2"));
      a.upstream.write(writeQuery("commit"));
      await Promise.all([a.answers.ready(1 + 3 * i), b.answers.ready(i)]);
    }
    assert.deepEqual(b.answers.errors, []);
    assert.ok(b.answers.readyStates.every((s) => s === "I"), `B was only ever idle: ${b.answers.readyStates.join("")}`);
    assert.deepEqual(a.answers.errors, []);
    a.upstream.close();
    b.upstream.close();
  });

  test("an engine that stops under its sessions ends every one of them, and a new one starts on the same files", async () => {
    const a = await session();
    a.upstream.write(writeQuery("create table if not exists kept (n int); insert into kept values (1)"));
    await a.answers.ready(1);
    const b = await session();
    b.upstream.write(Buffer.concat([writeParse("b_own", "select 1"), SYNC]));
    await b.answers.ready(1);

    // COPY FROM STDIN by the extended protocol with no data after it: PGlite ends its one process.
    a.upstream.write(Buffer.concat([writeParse("", "copy kept from stdin"), writeBind("", ""), writeExecute(""), SYNC]));
    for (const ended of await Promise.all([a.closed, b.closed])) {
      assert.ok(ended instanceof PgWireError, String(ended));
      assert.equal(ended.code, "57P02");
      assert.equal(ended.severity, "FATAL");
    }

    const c = await session();
    c.upstream.write(writeQuery("select count(*) from kept"));
    await c.answers.ready(1);
    assert.deepEqual(c.answers.errors, []);
    assert.deepEqual(c.answers.rows, [["1"]], "what was committed before is there");
    c.upstream.close();
  });
});
