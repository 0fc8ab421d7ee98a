import { after, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { AuditLog } from "../lib/audit/log";
import { openStore } from "../lib/db/client";
import { makeTempDir } from "../test/support/temp-dir";

const dir = makeTempDir("cli-audit");
after(() => dir.remove());

function airlock(...args: string[]) {
  return spawnSync(process.execPath, ["bin/airlock.mjs", "audit", ...args], { encoding: "utf8", env: { ...process.env, AIRLOCK_DATA_DIR: dir.path } });
}

const open = () => openStore({ dataDir: dir.path, migrationsFolder: "drizzle" });

async function tamper(sql: string): Promise<void> {
  const store = await open();
  await store.sql.run(sql);
  await store.close();
}

test("audit verify: exit 0 with the count; exit 1 naming the row once the file is edited; export prints CSV", async () => {
  const store = await open();
  await new AuditLog(store).append(Array.from({ length: 5 }, (_, i) => ({ at: new Date(i * 1000), type: "statement", agentId: "ops-agent", sql: `select ${i}, 'a,b'` })));
  await store.close();

  const ok = airlock("verify");
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /^audit chain intact: 5 rows, head 5 [0-9a-f]{64}/);

  const csv = airlock("export", "--format", "csv");
  assert.equal(csv.status, 0, csv.stderr);
  assert.equal(csv.stdout.split("\r\n").length, 7); // header, 5 rows, and the end
  assert.match(csv.stdout, /,"select 0, 'a,b'",/);
  assert.equal(airlock("export", "--format", "xml").status, 2);

  await tamper("update audit_log set sql = 'select 42' where id = 3");
  const edited = airlock("verify");
  assert.equal(edited.status, 1);
  assert.match(edited.stderr, /audit chain broken at row 3: row 3 was edited/);
});
