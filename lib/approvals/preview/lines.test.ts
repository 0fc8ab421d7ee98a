import { test } from "node:test";
import assert from "node:assert/strict";
import { ddlLine, formatBytes, formatCount, previewLines } from "./lines";

test("sizes and counts are shown as their order", () => {
  assert.equal(formatBytes(512), "512 bytes");
  assert.equal(formatBytes(8192), "8.0 kB");
  assert.equal(formatBytes(1.2 * 1024 ** 3), "1.2 GB");
  assert.equal(formatCount(7), "7");
  assert.equal(formatCount(12_345), "12K");
  assert.equal(formatCount(8_000_000), "8M");
});

test("a DDL risk in the issue's words", () => {
  const line = ddlLine({ action: "adds column seen with a volatile default (clock_timestamp()), filling every row", lock: "ACCESS EXCLUSIVE", rewrites: true, table: "public.orders", bytes: 1.2 * 1024 ** 3, rowsEstimate: 8_000_000, undo: "yes: DROP COLUMN" });
  assert.equal(line, "rewrites public.orders (1.2 GB, ~8M rows) under ACCESS EXCLUSIVE: adds column seen with a volatile default (clock_timestamp()), filling every row. Undo: yes: DROP COLUMN");
});

test("estimates, dry runs and their absence, one line each; several statements numbered", () => {
  const lines = previewLines({
    at: "",
    tookMs: 1,
    statements: [
      { text: "update t set a = 1", kind: "update", estimate: { rows: 3 }, dryRun: { rows: 1, columns: [], sample: [] } },
      { text: "delete from u", kind: "delete", estimate: { rows: 1 }, dryRun: { skipped: "not safe to dry-run: of trigger x on u, which a dry run would fire" } },
    ],
  });
  assert.deepEqual(lines, ["1. ~3 rows (estimate) updated", "1. 1 row (dry run)", "2. ~1 row (estimate) deleted", "2. No dry run: not safe to dry-run: of trigger x on u, which a dry run would fire"]);
  assert.deepEqual(previewLines({ at: "", tookMs: 1, statements: [], unavailable: "it took longer than 30 s" }), ["No preview: it took longer than 30 s"]);
});
