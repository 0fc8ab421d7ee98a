import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { eachDialect } from "../../test/support/store";
import { AuditLog, type AuditEntry } from "../audit/log";
import { verifyChain } from "../audit/verify";
import type { Transaction } from "../db/client";
import { EventBus } from "../events/bus";
import { StoreWriter, type RecordWriter } from "./records";
import { ActivityRecorder, type StatementRecord } from "./recorder";

const T0 = Date.UTC(2026, 0, 1);

const statement = (n: number): StatementRecord => ({
  sessionId: "s_1",
  agentId: "reporting-agent",
  resource: "demo",
  text: `select ${n}`,
  params: n % 2 ? [String(n)] : null,
  protocol: n % 2 ? "extended" : "simple",
  outcome: "ok",
  rows: 1,
  durationMs: 0.25,
  startedAt: new Date(T0 + n),
});

/** An audit log that fails once its rows are written, while `failing`: the transaction must take the batch's other rows back too. */
class FailingAuditLog extends AuditLog {
  failing = true;
  override async appendWithin(tx: Transaction, entries: readonly AuditEntry[]): Promise<number> {
    const added = await super.appendWithin(tx, entries);
    if (this.failing) throw new Error("the store went away");
    return added;
  }
}

for (const d of eachDialect()) {
  describe(`on ${d.dialect}`, () => {
    after(() => d.stop());

    test("a batch of a session and 1,000 statements: every row, its audit row, a chain that verifies", async () => {
      const { store, close } = await d.open();
      const bus = new EventBus();
      const recorded: unknown[] = [];
      bus.subscribe((e) => e.type === "activity.recorded" && recorded.push(e));
      const recorder = new ActivityRecorder(new StoreWriter(store, new AuditLog(store)), bus);
      recorder.sessionStarted({ id: "s_1", agentId: "reporting-agent", groups: ["agents"], resource: "demo", startedAt: new Date(T0) });
      for (let n = 1; n <= 1_000; n++) recorder.statement(statement(n));
      recorder.sessionEnded("s_1", "client closed", { agentId: "reporting-agent", resource: "demo" });
      await recorder.flush();

      const rows = await store.sql.all<{ text: string; params: string | null; protocol: string; started_at: number }>("select text, params, protocol, started_at from statements order by id");
      assert.equal(rows.length, 1_000);
      assert.deepEqual(rows[0], { text: "select 1", params: '["1"]', protocol: "extended", started_at: T0 + 1 });
      assert.deepEqual(rows.map((r) => r.text), Array.from({ length: 1_000 }, (_, i) => `select ${i + 1}`), "in the order they ran");
      const session = await store.sql.get<{ ended_at: number | null; end_reason: string | null }>("select ended_at, end_reason from agent_sessions where id = 's_1'");
      assert.equal(session?.end_reason, "client closed");
      const types = await store.sql.all<{ type: string; n: number }>("select type, count(*) as n from audit_log group by type order by type");
      assert.deepEqual(types, [
        { type: "session.ended", n: 1 },
        { type: "session.started", n: 1 },
        { type: "statement", n: 1_000 },
      ]);
      const verdict = await verifyChain(store);
      assert.ok(verdict.ok && verdict.rows === 1_002);
      assert.deepEqual(recorded, [{ type: "activity.recorded", sessions: 2, statements: 1_000 }]);
      await close();
    });

    test("a write that fails takes back the whole batch and keeps it for the next try: written once, in order", async () => {
      const { store, close } = await d.open();
      const audit = new FailingAuditLog(store);
      const recorder = new ActivityRecorder(new StoreWriter(store, audit));
      const batches: boolean[] = [];
      recorder.observe({ statement: () => undefined, batch: (_records, _lag, ok) => batches.push(ok) });
      const quiet = console.error;
      console.error = () => undefined;
      try {
        for (let n = 1; n <= 3; n++) recorder.statement(statement(n));
        await recorder.flush();
      } finally {
        console.error = quiet;
      }
      const count = async (table: string) => (await store.sql.get<{ n: number }>(`select count(*) as n from ${table}`))?.n;
      assert.deepEqual([await count("statements"), await count("audit_log")], [0, 0], "neither the statements nor their audit rows");
      assert.equal(recorder.failing, true, "readiness hears of it");

      audit.failing = false;
      recorder.statement(statement(4));
      await recorder.flush();
      assert.deepEqual(batches, [false, true]);
      assert.equal(recorder.failing, false);
      assert.deepEqual((await store.sql.all<{ text: string }>("select text from statements order by id")).map((r) => r.text), ["select 1", "select 2", "select 3", "select 4"]);
      assert.equal(await count("audit_log"), 4);
      assert.ok((await verifyChain(store)).ok);
      await close();
    });
  });
}

test("while the store keeps failing, tries back off and the log hears once, however many statements arrive", { timeout: 30_000 }, async () => {
  let tries = 0;
  const failing: RecordWriter = {
    write: async () => {
      tries++;
      throw new Error("the store went away");
    },
    close: async () => undefined,
  };
  const recorder = new ActivityRecorder(failing);
  const logged: string[] = [];
  const quiet = console.error;
  console.error = (line: string) => logged.push(line);
  try {
    // A statement every 5 ms for 600 ms: tries at 20 ms would be ~30; backing off (20, 40, 80, 160, 320 ms…) about 5.
    for (let n = 1; n <= 120; n++) {
      recorder.statement(statement(n));
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  } finally {
    console.error = quiet;
  }
  assert.ok(tries >= 2 && tries <= 8, `${tries} tries`);
  assert.equal(logged.length, 1, logged.join("\n"));
  assert.match(logged[0], /writing \d+ records failed \(1 in a row\)/);
  assert.equal(recorder.failing, true);
});
