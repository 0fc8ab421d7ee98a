import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { FUZZ_RULES } from "../../scripts/fuzz/policy";
import { readCommandTag, readFields } from "../../proxy/protocol/reader";
import { SYNC, writeQuery, writeStartupMessage } from "../../proxy/protocol/writer";
import { shapeOf, writeBind, writeDescribe, writeExecute, type Answer } from "../policy/wire";
import { startPostgres, type TestPostgres } from "../support/postgres";
import { startProxyHarness, type ProxyHarness } from "../support/proxy-harness";
import { RawWireClient } from "../support/raw-wire-client";

/**
 * Findings of `npm run fuzz` (scripts/fuzz.ts), each as the fuzzer's minimized sequence, on the
 * fuzz run's own policy (return mode, so nothing waits for people). Each must answer as
 * PostgreSQL does, within a bound, on PGlite and on PostgreSQL.
 */
let postgres: TestPostgres;
let harness: ProxyHarness;
before(async () => {
  postgres = await startPostgres();
  harness = await startProxyHarness({ demo: "pglite://demo", pg: postgres.url }, { rules: FUZZ_RULES });
});
after(async () => {
  await harness?.close();
  await postgres?.stop();
});

/** Logs in as reporting-agent in return mode, patiently (a loaded machine verifies the first token slowly). */
async function connect(resource: string): Promise<RawWireClient> {
  const raw = await RawWireClient.connect(harness.proxy.port);
  const token = await harness.idp.token("reporting-agent");
  raw.socket.write(writeStartupMessage({ user: "reporting-agent", database: resource, application_name: "fuzz airlock-mode=return" }));
  const auth = await raw.next(30_000);
  assert.equal(auth && String.fromCharCode(auth.type), "R");
  const body = Buffer.from(`${token}\0`);
  const head = Buffer.alloc(5);
  head.write("p", 0, "latin1");
  head.writeInt32BE(4 + body.length, 1);
  raw.socket.write(Buffer.concat([head, body]));
  for (let m = await raw.next(30_000); ; m = await raw.next(30_000)) {
    if (!m) throw new Error("closed during login");
    if (String.fromCharCode(m.type) === "Z") return raw;
  }
}

/** The answers up to the `syncs`-th ReadyForQuery, or what came before `ms` passed and "(nothing more)". */
async function answersWithin(raw: RawWireClient, syncs: number, ms = 15_000): Promise<Answer[]> {
  const answers: Answer[] = [];
  const deadline = Date.now() + ms;
  for (let ready = 0; ready < syncs; ) {
    const m = await raw.next(Math.max(1, deadline - Date.now())).catch(() => undefined);
    if (!m) return [...answers, { type: raw.closed ? "(closed)" : "(nothing more)" }];
    const type = String.fromCharCode(m.type);
    if (type === "E" || type === "N") answers.push({ type, code: readFields(m.body).get("C"), message: readFields(m.body).get("M") });
    else answers.push(type === "C" ? { type, tag: readCommandTag(m.body) } : { type });
    if (type === "Z") ready++;
  }
  return answers;
}

/** A Parse whose one parameter type is 0 (unspecified) on a statement that takes none: the server fails it (42P18). */
function parseWithUnusedParameter(name: string, sql: string): Buffer {
  const types = Buffer.alloc(6);
  types.writeInt16BE(1, 0);
  const body = Buffer.concat([Buffer.from(`${name}\0${sql}\0`), types]);
  const head = Buffer.alloc(5);
  head.write("P", 0, "latin1");
  head.writeInt32BE(4 + body.length, 1);
  return Buffer.concat([head, body]);
}

for (const resource of ["pg", "demo"]) {
  describe(`fuzz findings (${resource})`, () => {
    // `npm run fuzz -- --seed 1`, session 4, minimized: the second Sync never had its ReadyForQuery,
    // and the session answered nothing more (the agent hangs until it gives up).
    test("a failed Parse of DEALLOCATE, then Describe and Bind of unknown names, still ends at Sync", async () => {
      const raw = await connect(resource);
      try {
        raw.socket.write(
          Buffer.concat([
            parseWithUnusedParameter("_pg3_0", "deallocate s1"),
            writeBind("", "_pg3_0"),
            writeExecute(""),
            SYNC,
            writeDescribe("statement", "nosuch"),
            writeBind("", "s1"),
            SYNC,
          ]),
        );
        const answers = await answersWithin(raw, 2);
        assert.deepEqual(shapeOf(answers), ["E:42P18", "Z", "E:26000", "Z"]);
        raw.socket.write(writeQuery("select 1"));
        assert.deepEqual(shapeOf(await answersWithin(raw, 1)), ["T", "D", "C:SELECT 1", "Z"]);
      } finally {
        raw.close();
      }
    });
  });
}
