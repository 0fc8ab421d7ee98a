import assert from "node:assert/strict";
import { after, test } from "node:test";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { openTestStore } from "../../test/support/store";
import type { Store } from "../db/client";
import { exportLines } from "./export";
import { auditExportStream } from "./export-stream";
import { AuditLog, type AuditEntry } from "./log";

const ROWS = 100_000;
const { store, close } = await openTestStore();
const log = new AuditLog(store);
after(close);

const T0 = Date.UTC(2026, 0, 1);

// What the export holds on to is the heap after a collection; RSS also counts garbage not yet
// collected and V8's young generation (up to 32 MB), so it is reported beside it, not relied on.
setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;
for (let batch = 0; batch < ROWS / 5_000; batch++) {
  await log.append(
    Array.from({ length: 5_000 }, (_, i): AuditEntry => {
      const n = batch * 5_000 + i;
      return { at: new Date(T0 + n * 1_000), type: "statement", agentId: "reporting-agent", resource: "demo", decision: "allowed", sql: `select * from orders where id = ${n}, "quoted", 'x'`, tables: ["public.orders"], data: { rows: n % 10, params: [String(n)] } };
    }),
  );
}

/** A reader that tracks whether the connection it opened was closed. */
function tracked(): { open(): Promise<Store>; closed(): boolean } {
  let closed = false;
  return {
    async open() {
      const inner = await store.reader();
      return {
        ...inner,
        close: async () => {
          closed = true;
          await inner.close();
        },
      };
    },
    closed: () => closed,
  };
}

test(`${ROWS.toLocaleString("en-US")} rows stream in chunks with flat memory, while the store keeps taking writes`, async () => {
  const connection = tracked();
  const reader = auditExportStream(await connection.open(), "csv", {}).getReader();
  const decoder = new TextDecoder();
  gc();
  const before = process.memoryUsage();
  let [rssPeak, heapPeak] = [before.rss, before.heapUsed];
  let bytes = 0;
  let lines = 0;
  let chunks = 0;
  let tail = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks++;
    bytes += value.byteLength;
    const text = tail + decoder.decode(value, { stream: true });
    const parts = text.split("\r\n");
    tail = parts.pop() ?? "";
    lines += parts.length;
    if (chunks === 10) {
      // Mid-export: the proxy's recorder writes on its own connection and must not be refused.
      await log.append([{ at: new Date(), type: "person.signed_in", person: "alice@example.com" }]);
    }
    if (chunks % 20 === 0) {
      rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
      gc();
      heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed);
    }
    // Let the event loop turn, as a socket would between writes.
    if (chunks % 50 === 0) await new Promise((resolve) => setImmediate(resolve));
  }
  const mb = (n: number) => (n / 1_048_576).toFixed(1);
  console.log(`# exported ${lines} lines, ${mb(bytes)} MB in ${chunks} chunks; heap grew ${mb(heapPeak - before.heapUsed)} MB, RSS ${mb(rssPeak - before.rss)} MB`);
  assert.equal(tail, "");
  assert.equal(lines, ROWS + 1, "a header and every row that existed when the export began");
  assert.ok(chunks > 100, "sent in pieces, not as one body");
  assert.ok(heapPeak - before.heapUsed < 4 * 1_048_576, `the heap grew ${mb(heapPeak - before.heapUsed)} MB for ${mb(bytes)} MB exported`);
  assert.ok(rssPeak - before.rss < 64 * 1_048_576, `RSS grew ${mb(rssPeak - before.rss)} MB`);
  assert.ok(connection.closed(), "the export's connection is closed at the end");
});

test("the stream says what exportLines says, for a range", async () => {
  const range = { from: new Date(T0 + 10_000), to: new Date(T0 + 20_000) };
  const streamed = await new Response(auditExportStream(await store.reader(), "jsonl", range)).text();
  let direct = "";
  for await (const line of exportLines(store, "jsonl", range)) direct += line;
  assert.equal(streamed, direct);
  assert.equal(streamed.split("\n").filter(Boolean).length, 10);
});

test("a client that goes away mid-export closes the connection", async () => {
  const connection = tracked();
  const reader = auditExportStream(await connection.open(), "jsonl", {}).getReader();
  await reader.read();
  assert.equal(connection.closed(), false);
  await reader.cancel();
  assert.equal(connection.closed(), true);
});
