import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { importJWK, SignJWT, type JWK } from "jose";
import pg from "pg";
import { writeQuery } from "../../proxy/protocol/writer";
import { RawWireClient } from "../support/raw-wire-client";
import { RESOURCES, withProxy } from "./setup";

const env = withProxy();

/** A token signed by the IdP's own key, with the claims under test. */
async function craftedToken(claims: { sub?: string; aud?: string; exp?: number }) {
  const { idp } = env().harness;
  const jwk = idp.secrets.signingKey as JWK;
  return new SignJWT({ groups: ["agents"] })
    .setProtectedHeader({ alg: "RS256", kid: jwk.kid })
    .setSubject(claims.sub ?? "reporting-agent")
    .setIssuer(idp.issuer)
    .setAudience(claims.aud ?? idp.audience)
    .setIssuedAt()
    .setExpirationTime(claims.exp ?? Math.floor(Date.now() / 1000) + 600)
    .sign(await importJWK(jwk, "RS256"));
}

for (const { resource, kind } of RESOURCES) {
  describe(`bad input never harms anyone else (${kind})`, () => {
    let healthy: pg.Client;
    before(async () => {
      healthy = new pg.Client({ connectionString: await env().harness.url(resource) });
      await healthy.connect();
    });
    after(() => healthy.end());

    async function stillServing() {
      const { rows } = await healthy.query("select $1::text as ok", ["still here"]);
      assert.deepEqual(rows, [{ ok: "still here" }]);
    }

    async function loginFails(user: string, token: string, pattern: RegExp, code = "28P01") {
      const client = new pg.Client({ host: "127.0.0.1", port: env().harness.proxy.port, user, password: token, database: resource });
      await assert.rejects(client.connect(), (err: { code?: string; severity?: string; message: string }) => {
        assert.equal(err.code, code);
        assert.equal(err.severity, "FATAL");
        assert.match(err.message, pattern);
        assert.doesNotMatch(err.message, /eyJ/, "no token material in the message");
        return true;
      });
      await stillServing();
    }

    test("a wrong token", () => loginFails("reporting-agent", "not-a-token", /token is not a valid JWT/));
    test("an expired token", async () => loginFails("reporting-agent", await craftedToken({ exp: Math.floor(Date.now() / 1000) - 60 }), /token expired/));
    test("a token for another audience", async () => loginFails("reporting-agent", await craftedToken({ aud: "other-api" }), /audience/));
    test("a user name that is not the token's subject", async () => loginFails("ops-agent", await env().harness.idp.token("reporting-agent"), /belongs to another agent/));
    test("an unknown resource", async () => {
      const client = new pg.Client({ connectionString: (await env().harness.url(resource)).replace(new RegExp(`/${resource}$`), "/nowhere") });
      await assert.rejects(client.connect(), (err: { code?: string }) => err.code === "3D000");
      await stillServing();
    });

    test("a garbage startup packet", async () => {
      const raw = await RawWireClient.connect(env().harness.proxy.port);
      raw.socket.write(randomBytes(64));
      const error = await raw.errorThenClose();
      assert.ok(raw.closed);
      if (error) assert.equal(error.get("C"), "08P01");
      await stillServing();
    });

    test("a message length over 1 GiB after login", async () => {
      const raw = await RawWireClient.connect(env().harness.proxy.port);
      await raw.login("reporting-agent", resource, await env().harness.idp.token("reporting-agent"));
      raw.socket.write(Buffer.from([0x51, 0x40, 0x00, 0x00, 0x05]));
      const error = await raw.errorThenClose();
      assert.equal(error?.get("C"), "54000");
      assert.equal(error?.get("S"), "FATAL");
      await stillServing();
    });

    test("random bytes after login", async () => {
      const raw = await RawWireClient.connect(env().harness.proxy.port);
      await raw.login("reporting-agent", resource, await env().harness.idp.token("reporting-agent"));
      // A whole message of a type no client sends, with a random body. (A random length word would
      // at times announce a body still to come, and the server rightly waits for it.)
      const length = Buffer.alloc(4);
      length.writeInt32BE(4 + 4096);
      raw.socket.write(Buffer.concat([Buffer.from("Z"), length, randomBytes(4096)]));
      const error = await raw.errorThenClose();
      assert.ok(raw.closed);
      assert.ok(error, "the agent is told why");
      await stillServing();
    });

    test("a client that vanishes mid-result", async () => {
      const { harness } = env();
      const sessions = harness.live.size;
      const raw = await RawWireClient.connect(harness.proxy.port);
      await raw.login("reporting-agent", resource, await harness.idp.token("reporting-agent"));
      raw.socket.write(writeQuery("select repeat('x', 1000) from generate_series(1, 200000)"));
      await raw.expect("T");
      raw.close();
      for (let i = 0; i < 100 && harness.live.size > sessions; i++) await new Promise((r) => setTimeout(r, 50));
      assert.equal(harness.live.size, sessions, "the session ended");
      await stillServing();
    });
  });
}
