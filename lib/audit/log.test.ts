import assert from "node:assert/strict";
import { after, test } from "node:test";
import { openStore } from "../db/client";
import { makeTempDir } from "../../test/support/temp-dir";
import { canonicalJson, rowJson } from "./chain";
import { checkpointIfDue, loadAuditKey } from "./checkpoints";
import { exportLines, parseRange } from "./export";
import { AuditLog, type AuditEntry } from "./log";
import { pruneAudit } from "./retention";
import { verifyChain } from "./verify";

const dirs: Array<{ remove(): void }> = [];
after(() => dirs.forEach((d) => d.remove()));

/** A fresh store with `n` statement rows in its audit log. */
function storeWith(n: number, at = (i: number) => new Date(Date.UTC(2026, 0, 1) + i * 60_000)) {
  const dir = makeTempDir("audit");
  dirs.push(dir);
  const store = openStore(dir.path, "drizzle");
  const log = new AuditLog(store.db);
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
  log.append(entries);
  return { dir, store, log, sqlite: store.db.$client };
}

test("an intact chain verifies with its count; appends continue it", () => {
  const { store, log } = storeWith(50);
  const intact = verifyChain(store.db);
  assert.ok(intact.ok);
  assert.deepEqual([intact.rows, intact.head?.id, intact.checkpoints], [50, 50, 0]);
  log.append([{ at: new Date(), type: "person.signed_in", person: "alice@example.com" }]);
  const verdict = verifyChain(store.db);
  assert.ok(verdict.ok && verdict.rows === 51);
  store.close();
});

test("an edited row is named", () => {
  const { store, sqlite } = storeWith(20);
  sqlite.prepare("update audit_log set sql = 'select 1' where id = 7").run();
  assert.deepEqual(pick(verifyChain(store.db)), { ok: false, rowId: 7, problem: "row 7 was edited: its content no longer matches its hash" });
  store.close();
});

test("a deleted row is named", () => {
  const { store, sqlite } = storeWith(20);
  sqlite.prepare("delete from audit_log where id = 12").run();
  assert.deepEqual(pick(verifyChain(store.db)), { ok: false, rowId: 13, problem: "rows 12–12 are missing (deleted)" });
  store.close();
});

test("two rows swapped (content and hashes) are caught at the first", () => {
  const { store, sqlite } = storeWith(20);
  const columns = "at, type, agent_id, person, resource, session_id, request_id, grant_id, decision, sql, tables, data, source, prev_hash, hash";
  const a = sqlite.prepare(`select ${columns} from audit_log where id = 5`).get() as Record<string, unknown>;
  const b = sqlite.prepare(`select ${columns} from audit_log where id = 9`).get() as Record<string, unknown>;
  const set = sqlite.prepare(`update audit_log set ${columns.split(", ").map((c) => `${c} = @${c}`).join(", ")} where id = @id`);
  set.run({ ...b, id: 5 });
  set.run({ ...a, id: 9 });
  assert.deepEqual(pick(verifyChain(store.db)), { ok: false, rowId: 5, problem: "row 5 does not follow row 4: a row before it was deleted, inserted or replaced" });
  store.close();
});

test("a rewritten chain (every hash recomputed) still breaks the signed checkpoint", () => {
  const { dir, store, sqlite } = storeWith(10);
  const key = loadAuditKey(dir.path);
  assert.ok(checkpointIfDue(store.db, key.privateKeyPem, 86_400_000));
  assert.equal(checkpointIfDue(store.db, key.privateKeyPem, 86_400_000), undefined, "not due again");
  // Rewrite from row 1: new content, every hash recomputed as the real code would.
  sqlite.prepare("delete from audit_log").run();
  const log = new AuditLog(store.db);
  log.append(Array.from({ length: 10 }, (_, i) => ({ at: new Date(i), type: "statement", sql: `forged ${i}` })));
  assert.deepEqual(pick(verifyChain(store.db, key.publicKeyPem)), { ok: false, rowId: 10, problem: "row 10 differs from the signed checkpoint: the chain was rewritten" });
  store.close();
});

test("pruning keeps the rest verifiable, from the stored anchor", () => {
  const day = 86_400_000;
  const now = new Date(Date.UTC(2026, 0, 30));
  const { store, log } = storeWith(30, (i) => new Date(now.getTime() - (30 - i) * day));
  assert.equal(pruneAudit(store.db, 10, now), 20);
  const verdict = verifyChain(store.db);
  assert.ok(verdict.ok && verdict.rows === 10, JSON.stringify(verdict));
  log.append([{ at: now, type: "statement", sql: "select 1" }]);
  assert.ok(verifyChain(store.db).ok);
  assert.equal(pruneAudit(store.db, 10, now), 0);
  store.close();
});

test("export: JSON lines and CSV that quotes SQL with commas, quotes and newlines", () => {
  const { store } = storeWith(3);
  const jsonl = [...exportLines(store.db, "jsonl")];
  assert.equal(jsonl.length, 3);
  const first = JSON.parse(jsonl[0]) as { id: number; tables: string[]; data: { rows: number }; sql: string };
  assert.deepEqual([first.id, first.tables, first.data.rows], [1, ["public.orders"], 0]);
  const csv = [...exportLines(store.db, "csv")].join("");
  const records = parseCsv(csv);
  assert.equal(records.length, 4);
  assert.deepEqual(records[0].slice(0, 3), ["id", "at", "type"]);
  assert.equal(records[1][10], `select 0, 'a,b', "q""", E'line\\nbreak' from orders`);
  assert.equal(JSON.parse(records[2][12]).rows, 1);
  store.close();
});

function pick(v: ReturnType<typeof verifyChain>) {
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

test("export ranges: a time without a zone is UTC; a bad one is named", () => {
  assert.equal(parseRange("2026-01-01T10:00", undefined).from?.toISOString(), "2026-01-01T10:00:00.000Z");
  assert.equal(parseRange(undefined, "2026-01-02").to?.toISOString(), "2026-01-02T00:00:00.000Z");
  assert.equal(parseRange("2026-01-01T10:00:00+02:00", undefined).from?.toISOString(), "2026-01-01T08:00:00.000Z");
  assert.throws(() => parseRange("yesterday", undefined), /from must be a date or time \(ISO 8601\), got "yesterday"/);
});

test("the row's JSON, written out for speed, is its canonical JSON", () => {
  const row = { id: 7, at: 1_700_000_000_000, type: "statement", agentId: "a\"b", person: null, resource: "demo", sessionId: "s", requestId: null, grantId: "g", decision: "masked", sql: "select 'x'\n", tables: '["public.t"]', data: '{"rows":1}', source: null };
  assert.equal(rowJson(row), canonicalJson(row));
});
