/**
 * /api/live tells a signed-in browser only the kind of each change, and lives no longer than the
 * session that opened it: it closes at the session's expiry and when the person signs out.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, test } from "node:test";
import { encode } from "@auth/core/jwt";
import { WebSocket } from "ws";
import { EventBus } from "../../lib/events/bus";
import { createLiveSocket, SESSION_ENDED } from "../../server/live-socket";

const SECRET = randomBytes(32).toString("hex");
const COOKIE = "authjs.session-token";
const bus = new EventBus();
const server = createServer();
let origin: string;
let live: ReturnType<typeof createLiveSocket>;

before(async () => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  live = createLiveSocket({ bus, authSecret: SECRET, secureCookies: false, roleGroups: { admin: ["airlock-admins"], approver: ["db-approvers"] }, origin });
  server.on("upgrade", (req, socket, head) => void live.upgrade(req, socket, head));
});
after(async () => {
  live.close();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

interface Opened {
  ws: WebSocket;
  messages: unknown[];
  closed: Promise<number>;
}

/** A browser's socket for this person, once its hello has arrived. */
async function open(email: string, groups: string[], maxAge = 3600): Promise<Opened> {
  const token = await encode({ token: { email, groups }, secret: SECRET, salt: COOKIE, maxAge });
  const ws = new WebSocket(`${origin.replace("http", "ws")}/api/live`, { origin, headers: { cookie: `${COOKIE}=${token}` } });
  const messages: unknown[] = [];
  const closed = new Promise<number>((resolve) => ws.on("close", (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    ws.on("message", (data) => {
      messages.push(JSON.parse(String(data)));
      if (messages.length === 1) resolve();
    });
    ws.on("error", reject);
  });
  return { ws, messages, closed };
}

const settle = () => new Promise((r) => setTimeout(r, 100));

test("a viewer hears the kind of each change and nothing of its content", async () => {
  const carol = await open("carol@example.com", ["engineering"]);
  assert.deepEqual(carol.messages[0], { type: "hello", email: "carol@example.com", role: "viewer" });
  bus.publish({ type: "request.changed", requestId: "r_0123456789", status: "pending" });
  bus.publish({ type: "person.signed_in", email: "alice@example.com", role: "approver", at: new Date().toISOString() });
  bus.publish({ type: "session.opened", sessionId: "s_1", agentId: "reporting-agent", resource: "demo" });
  await settle();
  assert.deepEqual(carol.messages.slice(1), [
    { type: "event", event: { type: "request.changed" } },
    { type: "event", event: { type: "person.signed_in" } },
    { type: "event", event: { type: "session.opened" } },
  ]);
  carol.ws.close();
});

test("signing out closes that person's sockets, not anyone else's", async () => {
  const carol = await open("carol@example.com", ["engineering"]);
  const alice = await open("alice@example.com", ["db-approvers"]);
  bus.publish({ type: "person.signed_out", email: "Carol@Example.com" });
  assert.equal(await carol.closed, SESSION_ENDED);
  bus.publish({ type: "grant.changed", grantId: "g_1" });
  await settle();
  assert.equal(alice.ws.readyState, WebSocket.OPEN);
  assert.deepEqual(alice.messages.at(-1), { type: "event", event: { type: "grant.changed" } }, "the sign-out itself is not sent");
  alice.ws.close();
});

test("a socket closes when the session that opened it expires", async () => {
  const started = Date.now();
  const bob = await open("bob@example.com", ["db-approvers"], 2);
  assert.equal(await bob.closed, SESSION_ENDED);
  assert.ok(Date.now() - started < 4000, "closed at the expiry, not at some later sweep");
});
