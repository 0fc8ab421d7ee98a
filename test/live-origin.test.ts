import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import { request } from "node:http";
import path from "node:path";
import { encode } from "@auth/core/jwt";
import { startAirlock, type RunningAirlock } from "./support/airlock-server";

let airlock: RunningAirlock;
let cookie: string;
before(async () => {
  airlock = await startAirlock();
  // bob's dashboard session, sealed as next-auth seals it, with the server's own secret.
  const secret = fs.readFileSync(path.join(airlock.dataDir, "auth-secret"), "utf8").trim();
  const name = "authjs.session-token";
  cookie = `${name}=${await encode({ token: { email: "bob@example.com", groups: ["db-approvers"] }, secret, salt: name })}`;
});
after(() => airlock?.stop());

/** A raw websocket upgrade of /api/live, as a browser (or a page's script on any site) sends it: the status line's code. */
function upgrade(headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({
      host: "127.0.0.1",
      port: airlock.port,
      path: "/api/live",
      headers: { connection: "Upgrade", upgrade: "websocket", "sec-websocket-version": "13", "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==", ...headers },
    });
    req.on("upgrade", (res, socket) => {
      socket.destroy();
      resolve(res.statusCode ?? 0);
    });
    req.on("response", (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("error", reject);
    req.end();
  });
}

test("/api/live: the dashboard's own origin with a session upgrades; another origin, or none, gets 403 even with the cookie", async () => {
  const own = new URL(airlock.url).origin;
  assert.equal(await upgrade({ origin: own, cookie }), 101);
  assert.equal(await upgrade({ origin: "https://evil.example.com", cookie }), 403);
  assert.equal(await upgrade({ origin: own.replace("localhost", "127.0.0.1"), cookie }), 403, "the public URL's host, not another name for it");
  assert.equal(await upgrade({ origin: "null", cookie }), 403, "a sandboxed page or a file");
  assert.equal(await upgrade({ cookie }), 403, "no origin");
  assert.equal(await upgrade({ origin: own }), 401, "the right origin still needs a session");
});
