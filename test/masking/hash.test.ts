/**
 * `strategy: hash` gives the same output for the same input across sessions and across restarts
 * (the key lives in the data directory), so an agent can still join and GROUP BY masked values.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import pg from "pg";
import { startPostgres, type TestPostgres } from "../support/postgres";
import { startProxyHarness } from "../support/proxy-harness";
import { makeTempDir } from "../support/temp-dir";

const RULES = `rules:
  - name: agents-read
    match: { groups: [agents], kinds: [select] }
    action: allow
    mask: { columns: ["people.email"], detect: [email], strategy: hash }`;

const SQL = "select email, 'mail ' || other as note from people order by id";

let server: TestPostgres;
const dataDir = makeTempDir("mask-hash");

before(async () => {
  server = await startPostgres();
  const admin = new pg.Client({ connectionString: server.url });
  await admin.connect();
  await admin.query("create table people (id int, email text, other text); insert into people values (1, 'ann@example.com', 'ann@example.com'), (2, 'bo@example.com', 'ann@example.com')");
  await admin.end();
});
after(async () => {
  await server.stop();
  dataDir.remove();
});

/** The rows one session gets, through a proxy started afresh on the same data directory. */
async function sessionRows(): Promise<Array<{ email: string; note: string }>> {
  const harness = await startProxyHarness({ pg: server.url }, { rules: RULES, env: { AIRLOCK_DATA_DIR: dataDir.path } });
  try {
    const client = new pg.Client({ connectionString: await harness.url("pg") });
    await client.connect();
    const { rows } = await client.query(SQL);
    await client.end();
    return rows;
  } finally {
    await harness.close();
  }
}

test("hash is stable across sessions and restarts, and a value hashes alike in a column and in text", async () => {
  const first = await sessionRows();
  const afterRestart = await sessionRows();
  assert.deepEqual(afterRestart, first);
  const [ann, bo] = first;
  assert.match(ann.email, /^[0-9a-f]{16}$/);
  assert.notEqual(ann.email, bo.email);
  assert.equal(ann.note, `mail ${ann.email}`); // the detector's hash of the same address
  assert.equal(bo.note, ann.note);
});
