import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, describe, test } from "node:test";
import { eachDialect } from "../../test/support/store";
import { makeTempDir } from "../../test/support/temp-dir";
import { verifyChain } from "../audit/verify";
import type { ActivityRecord } from "./records";
import { ThreadWriter } from "./thread-writer";

const T0 = Date.UTC(2026, 0, 1);

const batch = (from: number, to: number): ActivityRecord[] =>
  Array.from({ length: to - from + 1 }, (_, i) => ({
    kind: "statement",
    row: {
      sessionId: "s_1",
      agentId: "reporting-agent",
      resource: "demo",
      text: `select ${from + i}`,
      params: null,
      protocol: "simple",
      outcome: "ok",
      rows: 1,
      durationMs: 0.25,
      startedAt: new Date(T0 + from + i),
      tables: ["orders"],
      kinds: ["select"],
      rule: "reads",
    },
  }));

for (const d of eachDialect()) {
  describe(`on ${d.dialect}`, () => {
    after(() => d.stop());

    test("batches written on the writer's thread land in the store, in order, with their audit rows; closed, it opens its thread again on the next write", { timeout: 60_000 }, async () => {
      const { store, close } = await d.open();
      const start = [{ kind: "start", row: { id: "s_1", agentId: "reporting-agent", groups: ["agents"], resource: "demo", startedAt: new Date(T0) } }] satisfies ActivityRecord[];
      const writer = await ThreadWriter.start(store.address);
      try {
        assert.deepEqual(await writer.write([...start, ...batch(1, 500)]), { sessions: 1, statements: 500 });
        assert.deepEqual(await writer.write(batch(501, 600)), { sessions: 0, statements: 100 });
        await writer.close();
        assert.deepEqual(await writer.write(batch(601, 601)), { sessions: 0, statements: 1 });
      } finally {
        await writer.close();
      }
      const texts = (await store.sql.all<{ text: string }>("select text from statements order by id")).map((r) => r.text);
      assert.deepEqual(texts, Array.from({ length: 601 }, (_, i) => `select ${i + 1}`));
      const audit = await store.sql.get<{ tables: string; data: string }>("select tables, data from audit_log where type = 'statement' order by id limit 1");
      assert.equal(audit?.tables, '["orders"]');
      assert.deepEqual({ ...JSON.parse(audit!.data), durationMs: undefined }, { params: null, protocol: "simple", kinds: ["select"], rule: "reads", outcome: "ok", rows: 1, durationMs: undefined });
      const chain = await verifyChain(store);
      assert.ok(chain.ok && chain.rows === 602, JSON.stringify(chain));
      await close();
    });
  });
}

test("a store the writer's thread cannot open fails its start, with the reason", { timeout: 30_000 }, async () => {
  const dir = makeTempDir("thread-writer");
  try {
    // A data dir below a file: no store can be made there.
    fs.writeFileSync(path.join(dir.path, "file"), "");
    await assert.rejects(ThreadWriter.start({ dataDir: path.join(dir.path, "file", "data") }), /the audit writer could not open the store: .*ENOTDIR/);
  } finally {
    dir.remove();
  }
});
