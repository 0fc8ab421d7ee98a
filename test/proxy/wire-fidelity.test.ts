import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { writeParse, writeQuery, SYNC } from "../../proxy/protocol/writer";
import { RawWireClient } from "../support/raw-wire-client";
import { answersUntilReady, writeBind, writeExecute } from "../policy/wire";
import { psql, RESOURCES, withProxy } from "./setup";

/** What a client library author expects of PostgreSQL, through Airlock, on both kinds of database (issue 15). */
const env = withProxy();

async function raw(resource: string): Promise<RawWireClient> {
  const { harness } = env();
  const client = await RawWireClient.connect(harness.proxy.port);
  await client.login("reporting-agent", resource, await harness.idp.token("reporting-agent"));
  return client;
}

const types = (answers: Array<{ type: string }>) => answers.map((a) => a.type).join(" ");

for (const { resource, kind } of RESOURCES) {
  describe(`empty queries on ${kind}`, () => {
    test("node-postgres query(''), inside and outside a transaction, answers EmptyQueryResponse and the session goes on", async () => {
      const client = new pg.Client({ connectionString: await env().harness.url(resource) });
      await client.connect();
      try {
        await client.query("");
        await client.query("begin");
        await client.query("");
        await client.query("-- only a comment");
        assert.equal((await client.query("select 42 as n")).rows[0].n, 42);
        await client.query("commit");
      } finally {
        await client.end();
      }
    });

    test("a psql script with a stray ';' and a comment-only command", async () => {
      const url = await env().harness.url(resource);
      const result = await psql(url, ["-c", ";", "-c", "/* nothing */", "-c", "select 'after'"]);
      assert.equal(result.status, 0, result.stderr);
      assert.equal(result.stdout, "after");
      const script = await psql(url, [], ";\n;\nselect 1;\n");
      assert.equal(script.status, 0, script.stderr);
    });

    test("on the wire: Query '', Query ';', and Parse/Bind/Execute of an empty statement each answer I, as PostgreSQL does", async () => {
      const client = await raw(resource);
      try {
        client.socket.write(Buffer.concat([writeQuery(""), writeQuery(";"), writeParse("", ""), writeBind("", ""), writeExecute(""), SYNC]));
        const answers = await answersUntilReady(client, 3);
        assert.equal(types(answers), "I Z I Z 1 2 I Z");
      } finally {
        client.close();
      }
    });
  });

  describe(`startup parameters on ${kind}`, () => {
    test("libpq's lower-case timezone and datestyle (PGTZ, PGDATESTYLE) and PGOPTIONS reach the session", async () => {
      const url = await env().harness.url(resource);
      const result = await psql(url, ["-c", "show timezone", "-c", "show datestyle", "-c", "show work_mem"], undefined, {
        PGTZ: "Asia/Tokyo",
        PGDATESTYLE: "SQL, DMY",
        PGOPTIONS: "-c work_mem=12MB",
      });
      assert.equal(result.status, 0, result.stderr);
      assert.deepEqual(result.stdout.split("\n"), ["Asia/Tokyo", "SQL, DMY", "12MB"]);
    });

    test("a client_encoding Airlock cannot serve is refused at login, in words", async () => {
      const result = await psql(await env().harness.url(resource), ["-c", "select 1"], undefined, { PGCLIENTENCODING: "LATIN1" });
      assert.equal(result.status, 2);
      assert.match(result.stderr, /airlock: client_encoding LATIN1 is not served/);
    });
  });
}

test("a setting the server itself rejects at startup reaches the agent as PostgreSQL says it", async () => {
  const result = await psql(await env().harness.url("pg"), ["-c", "select 1"], undefined, { PGTZ: "Mars/Olympus_Mons" });
  assert.equal(result.status, 2);
  assert.match(result.stderr, /invalid value for parameter "TimeZone": "Mars\/Olympus_Mons"/);
});

test("psql's large objects (the fast-path interface) work under a policy that allows the calls", async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "airlock-lo-"));
  try {
    const file = path.join(dir, "in.txt");
    writeFileSync(file, "the ultimate answer\n");
    const url = await env().harness.url("pg");
    const imported = await psql(url, ["-c", `\\lo_import ${file}`]);
    assert.equal(imported.status, 0, imported.stderr);
    const oid = /lo_import (\d+)/.exec(imported.stdout)?.[1];
    assert.ok(oid, imported.stdout);
    const exported = await psql(url, ["-c", `\\lo_export ${oid} ${path.join(dir, "out.txt")}`, "-c", `\\lo_unlink ${oid}`]);
    assert.equal(exported.status, 0, exported.stderr);
    assert.equal(readFileSync(path.join(dir, "out.txt"), "utf8"), "the ultimate answer\n");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
