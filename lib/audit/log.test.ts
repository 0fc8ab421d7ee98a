import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { eachDialect, type TestStore } from "../../test/support/store";
import { canonicalJson, rowJson } from "./chain";
import { checkpointIfDue, loadAuditKey } from "./checkpoints";
import { EXPORT_PAGE_ROWS, exportLines, parseRange } from "./export";
import { AuditLog, type AuditEntry } from "./log";
import { pruneAudit } from "./retention";
import { VERIFY_PAGE_ROWS, verifyChain } from "./verify";

const T0 = Date.UTC(2026, 0, 1);

for (const d of eachDialect()) {
  describe(`on ${d.dialect}`, () => {
    const opened: TestStore[] = [];
    after(async () => {
      for (const s of opened) await s.close();
      await d.stop();
    });

    /** A fresh store with `n` statement rows in its audit log. */
    async function storeWith(n: number, at = (i: number) => new Date(T0 + i * 60_000)) {
      const t = await d.open();
      opened.push(t);
      const log = new AuditLog(t.store);
      const entries: AuditEntry[] = Array.from({ length: n }, (_, i) => ({
        at: at(i),
        type: "statement",
        agentId: "reporting-agent",
        resource: "demo",
        decision: i % 3 ? "allowed" : "masked",
        sql: `select ${i}, 'a,b', "q""", E'line\\nbreak' from orders`,
        tables: ["public.orders"],
        data: { rows: i, params: [String(i)] },
      }));
      await log.append(entries);
      return { dataDir: t.dataDir, store: t.store, log };
    }

    test("an intact chain verifies with its count; appends continue it", async () => {
      const { store, log } = await storeWith(50);
      const intact = await verifyChain(store);
      assert.ok(intact.ok);
      assert.deepEqual([intact.rows, intact.head?.id, intact.checkpoints], [50, 50, 0]);
      assert.equal(await log.append([{ at: new Date(), type: "person.signed_in", person: "alice@example.com" }]), 1);
      const verdict = await verifyChain(store);
      assert.ok(verdict.ok && verdict.rows === 51);
    });

    test("a thing with a source is recorded once, within a batch and across appends", async () => {
      const { store, log } = await storeWith(0);
      const grant = (n: number): AuditEntry => ({ at: new Date(T0 + n), type: "grant.created", grantId: "g_1", source: "grant:g_1:created" });
      assert.equal(await log.append([grant(1), grant(2)]), 1);
      assert.equal(await log.append([grant(3), { at: new Date(T0), type: "person.signed_in" }]), 1);
      const verdict = await verifyChain(store);
      assert.ok(verdict.ok && verdict.rows === 2);
    });

    test("an edited row is named", async () => {
      const { store } = await storeWith(20);
      await store.sql.run("update audit_log set sql = 'select 1' where id = 7");
      assert.deepEqual(pick(await verifyChain(store)), { ok: false, rowId: 7, problem: "row 7 was edited: its content no longer matches its hash" });
    });

    test("a deleted row is named", async () => {
      const { store } = await storeWith(20);
      await store.sql.run("delete from audit_log where id = 12");
      assert.deepEqual(pick(await verifyChain(store)), { ok: false, rowId: 13, problem: "rows 12–12 are missing (deleted)" });
    });

    test("two rows swapped (content and hashes) are caught at the first", async () => {
      const { store } = await storeWith(20);
      const columns = ["at", "type", "agent_id", "person", "resource", "session_id", "request_id", "grant_id", "decision", "sql", "tables", "data", "source", "prev_hash", "hash"];
      const read = async (id: number) => Object.values((await store.sql.get<Record<string, string | number | null>>(`select ${columns.join(", ")} from audit_log where id = ?`, [id]))!);
      const [a, b] = [await read(5), await read(9)];
      const set = `update audit_log set ${columns.map((c) => `${c} = ?`).join(", ")} where id = ?`;
      await store.sql.run(set, [...b, 5]);
      await store.sql.run(set, [...a, 9]);
      assert.deepEqual(pick(await verifyChain(store)), { ok: false, rowId: 5, problem: "row 5 does not follow row 4: a row before it was deleted, inserted or replaced" });
    });

    test(`a long chain is walked a page (${VERIFY_PAGE_ROWS} rows) at a time: an edit past the first page is named`, async () => {
      const { store } = await storeWith(VERIFY_PAGE_ROWS * 2 + 10);
      const intact = await verifyChain(store);
      assert.ok(intact.ok && intact.rows === VERIFY_PAGE_ROWS * 2 + 10);
      await store.sql.run("update audit_log set sql = 'select 1' where id = ?", [VERIFY_PAGE_ROWS + 5]);
      const edited = VERIFY_PAGE_ROWS + 5;
      assert.deepEqual(pick(await verifyChain(store)), { ok: false, rowId: edited, problem: `row ${edited} was edited: its content no longer matches its hash` });
    });

    test("a rewritten chain (every hash recomputed) still breaks the signed checkpoint", async () => {
      const { dataDir, store } = await storeWith(10);
      const key = loadAuditKey(dataDir);
      assert.ok(await checkpointIfDue(store, key.privateKeyPem, 86_400_000));
      assert.equal(await checkpointIfDue(store, key.privateKeyPem, 86_400_000), undefined, "not due again");
      // Rewrite from row 1: new content, every hash recomputed as the real code would.
      await store.sql.run("delete from audit_log");
      await new AuditLog(store).append(Array.from({ length: 10 }, (_, i) => ({ at: new Date(i), type: "statement", sql: `forged ${i}` })));
      assert.deepEqual(pick(await verifyChain(store, key.publicKeyPem)), { ok: false, rowId: 10, problem: "row 10 differs from the signed checkpoint: the chain was rewritten" });
    });

    test("pruning keeps the rest verifiable, from the stored anchor", async () => {
      const day = 86_400_000;
      const now = new Date(Date.UTC(2026, 0, 30));
      const { store, log } = await storeWith(30, (i) => new Date(now.getTime() - (30 - i) * day));
      assert.equal(await pruneAudit(store, 10, now), 20);
      const verdict = await verifyChain(store);
      assert.ok(verdict.ok && verdict.rows === 10, JSON.stringify(verdict));
      await log.append([{ at: now, type: "statement", sql: "select 1" }]);
      assert.ok((await verifyChain(store)).ok);
      assert.equal(await pruneAudit(store, 10, now), 0);
      // Pruned to nothing: the next row follows the anchor.
      assert.equal(await pruneAudit(store, 0, new Date(now.getTime() + day)), 11);
      await log.append([{ at: now, type: "statement", sql: "select 2" }]);
      const after = await verifyChain(store);
      assert.ok(after.ok && after.rows === 1 && after.head?.id === 32, JSON.stringify(after));
    });

    test("export: JSON lines and CSV that quotes SQL with commas, quotes and newlines", async () => {
      const { store } = await storeWith(3);
      const jsonl = await lines(exportLines(store, "jsonl"));
      assert.equal(jsonl.length, 3);
      const first = JSON.parse(jsonl[0]) as { id: number; tables: string[]; data: { rows: number }; sql: string };
      assert.deepEqual([first.id, first.tables, first.data.rows], [1, ["public.orders"], 0]);
      const csv = (await lines(exportLines(store, "csv"))).join("");
      const records = parseCsv(csv);
      assert.equal(records.length, 4);
      assert.deepEqual(records[0].slice(0, 3), ["id", "at", "type"]);
      assert.equal(records[1][10], `select 0, 'a,b', "q""", E'line\\nbreak' from orders`);
      assert.equal(JSON.parse(records[2][12]).rows, 1);
    });

    test(`export: a page (${EXPORT_PAGE_ROWS} rows) at a time, every row once in order, within the range`, async () => {
      const n = EXPORT_PAGE_ROWS * 2 + 1;
      const { store } = await storeWith(n);
      const ids = (await lines(exportLines(store, "jsonl"))).map((l) => (JSON.parse(l) as { id: number }).id);
      assert.deepEqual(ids, Array.from({ length: n }, (_, i) => i + 1));
      const ranged = await lines(exportLines(store, "jsonl", { from: new Date(T0 + 10 * 60_000), to: new Date(T0 + (EXPORT_PAGE_ROWS + 20) * 60_000) }));
      assert.equal(ranged.length, EXPORT_PAGE_ROWS + 10);
    });
  });
}

test("the row's JSON, written out for speed, is its canonical JSON", () => {
  const row = { id: 7, at: 1_700_000_000_000, type: "statement", agentId: "a\"b", person: null, resource: "demo", sessionId: "s", requestId: null, grantId: "g", decision: "masked", sql: "select 'x'\n", tables: '["public.t"]', data: '{"rows":1}', source: null };
  assert.equal(rowJson(row), canonicalJson(row));
});

test("export ranges: a time without a zone is UTC; a bad one is named", () => {
  assert.equal(parseRange("2026-01-01T10:00", undefined).from?.toISOString(), "2026-01-01T10:00:00.000Z");
  assert.equal(parseRange(undefined, "2026-01-02").to?.toISOString(), "2026-01-02T00:00:00.000Z");
  assert.equal(parseRange("2026-01-01T10:00:00+02:00", undefined).from?.toISOString(), "2026-01-01T08:00:00.000Z");
  assert.throws(() => parseRange("yesterday", undefined), /from must be a date or time \(ISO 8601\), got "yesterday"/);
});

async function lines(from: AsyncIterable<string>): Promise<string[]> {
  const all: string[] = [];
  for await (const line of from) all.push(line);
  return all;
}

function pick(v: Awaited<ReturnType<typeof verifyChain>>) {
  return v.ok ? v : { ok: v.ok, rowId: v.rowId, problem: v.problem };
}

/** A strict RFC 4180 reader: what a spreadsheet does with the export. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let field = "";
  let record: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") {
      record.push(field);
      field = "";
    } else if (c === "\r" && text[i + 1] === "\n") {
      record.push(field);
      records.push(record);
      [field, record] = ["", []];
      i++;
    } else field += c;
  }
  return records;
}
