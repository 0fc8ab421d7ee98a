import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import pg from "pg";
import { startPostgres, type TestPostgres } from "./postgres";

let server: TestPostgres;
before(async () => {
  server = await startPostgres();
});
after(async () => {
  const dir = server.dataDir;
  await server.stop();
  assert.equal(fs.existsSync(dir), false, "stop() removes the data dir");
});

test("the helper starts a real PostgreSQL that speaks SCRAM over TCP", async () => {
  const client = new pg.Client({ connectionString: server.url });
  await client.connect();
  const { rows } = await client.query<{ version: string; method: string }>(
    "select version(), (select setting from pg_settings where name = 'password_encryption') as method",
  );
  assert.match(rows[0].version, /^PostgreSQL \d+/);
  assert.equal(rows[0].method, "scram-sha-256");
  await client.query("create table t (id int primary key, note text)");
  await client.query("insert into t values ($1, $2)", [1, "hello"]);
  assert.deepEqual((await client.query("select note from t where id = 1")).rows, [{ note: "hello" }]);
  await client.end();
});

test("a wrong password is refused", async () => {
  const client = new pg.Client({ connectionString: server.url.replace(server.password, "wrong") });
  await assert.rejects(client.connect(), /password authentication failed/);
});
