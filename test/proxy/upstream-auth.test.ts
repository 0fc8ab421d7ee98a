import { test } from "node:test";
import assert from "node:assert/strict";
import pg from "pg";
import { startPostgres } from "../support/postgres";
import { startProxyHarness } from "../support/proxy-harness";

for (const auth of ["scram-sha-256", "md5", "password"] as const) {
  test(`the proxy logs in to PostgreSQL with ${auth} authentication; the agent never sees the credentials`, async () => {
    const server = await startPostgres({ auth });
    const harness = await startProxyHarness({ target: server.url });
    try {
      const direct = new pg.Client({ connectionString: server.url });
      await direct.connect();
      const stored = (await direct.query("select rolpassword from pg_authid where rolname = current_user")).rows[0].rolpassword as string;
      await direct.end();
      assert.match(stored, auth === "md5" ? /^md5/ : /^SCRAM-SHA-256/, "the server really asks for this method");

      const client = new pg.Client({ connectionString: await harness.url("target") });
      await client.connect();
      const { rows } = await client.query("select current_user as who");
      assert.deepEqual(rows, [{ who: "postgres" }], "runs as the resource's own user");
      const leaked = Object.values((client as unknown as { connectionParameters: Record<string, unknown> }).connectionParameters).join(" ");
      assert.ok(!leaked.includes(server.password), "the real password is nowhere on the agent's side");
      await client.end();
    } finally {
      await harness.close();
      await server.stop();
    }
  });
}

test("a resource with a wrong password is unreachable, and the agent is not told why", async () => {
  const server = await startPostgres();
  const harness = await startProxyHarness({ target: server.url.replace(server.password, "wrong-password") });
  try {
    const client = new pg.Client({ connectionString: await harness.url("target") });
    await assert.rejects(client.connect(), (err: { code?: string; message: string }) => {
      assert.equal(err.code, "08006");
      assert.match(err.message, /resource "target" is unreachable/);
      assert.doesNotMatch(err.message, /password|postgres@|127\.0\.0\.1/);
      return true;
    });
  } finally {
    await harness.close();
    await server.stop();
  }
});
