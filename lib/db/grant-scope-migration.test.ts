import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, test } from "node:test";
import Database from "better-sqlite3";
import { drizzle } from "drizzle-orm/better-sqlite3";
import { migrate } from "drizzle-orm/better-sqlite3/migrator";
import { makeTempDir } from "../../test/support/temp-dir";

const dir = makeTempDir("grant-scope-migration");
after(() => dir.remove());

/** The migrations folder as it stood up to (and including) `lastTag`. */
function migrationsUpTo(lastTag: string): string {
  const folder = path.join(dir.path, lastTag);
  fs.cpSync("drizzle", folder, { recursive: true });
  const journalFile = path.join(folder, "meta", "_journal.json");
  const journal = JSON.parse(fs.readFileSync(journalFile, "utf8")) as { entries: Array<{ tag: string }> };
  const last = journal.entries.findIndex((e) => e.tag === lastTag);
  fs.writeFileSync(journalFile, JSON.stringify({ ...journal, entries: journal.entries.slice(0, last + 1) }));
  return folder;
}

test("grants and requests stored as kinds and tables keep their meaning: the cross product of the two", () => {
  const sqlite = new Database(path.join(dir.path, "store.db"));
  const db = drizzle(sqlite);
  migrate(db, { migrationsFolder: migrationsUpTo("0008_audit_partial_indexes") });
  sqlite.exec(`
    insert into grants (id, agent_id, resource, kinds, tables, rule, request_id, approved_by, created_at, expires_at) values
      ('g_1', 'ops-agent', 'demo', '["update"]', '["public.customers","public.orders"]', 'agents-write', 'r_1', '[]', 1, 2),
      ('g_2', 'ops-agent', 'demo', '["select","call"]', '[]', 'agents-write', 'r_2', '[]', 1, 2);
    insert into access_requests (id, agent_id, groups, resource, statements, kinds, tables, rule, why, approver_groups, required_approvals, grant_options, status, created_at, expires_at) values
      ('r_3', 'ops-agent', '[]', 'demo', '[]', '["select","update"]', '["*"]', 'agents-write', 'asks', '[]', 1, '[]', 'pending', 1, 2);
  `);
  migrate(db, { migrationsFolder: "drizzle" });
  const scopes = (table: string) => (sqlite.prepare(`select id, scope from ${table} order by id`).all() as Array<{ id: string; scope: string }>).map((r) => [r.id, JSON.parse(r.scope) as unknown]);
  assert.deepEqual(scopes("grants"), [
    [
      "g_1",
      [
        { kind: "update", table: "public.customers" },
        { kind: "update", table: "public.orders" },
      ],
    ],
    // A grant with no tables covered only statements on no table, which no grant made from a held statement covers now.
    ["g_2", []],
  ]);
  assert.deepEqual(scopes("access_requests"), [
    [
      "r_3",
      [
        { kind: "select", table: "*" },
        { kind: "update", table: "*" },
      ],
    ],
  ]);
  const columns = (sqlite.prepare("select name from pragma_table_info('grants')").all() as Array<{ name: string }>).map((c) => c.name);
  assert.ok(!columns.includes("kinds") && !columns.includes("tables"), columns.join(", "));
  sqlite.close();
});
