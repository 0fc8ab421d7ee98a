import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { WebSocketServer, type WebSocket } from "ws";
import { startSlackStandIn, STAND_IN_BOT_TOKEN, type SlackStandIn } from "./slack-stand-in";

/**
 * Slack's Socket Mode on loopback, beside the Web API stand-in: `apps.connections.open` (with the
 * app-level token) answers a one-time websocket URL; the socket is greeted with `hello`; a test
 * sends an envelope (the same interaction payloads the HTTP tests post) and gets back the app's
 * acknowledgement `{ envelope_id, payload }`; and the socket can be dropped, as Slack does, to see
 * the app open a new one. The protocol is @slack/socket-mode's (SocketModeClient, SlackWebSocket).
 */

export const STAND_IN_APP_TOKEN = "xapp-1-A0AIRLOCK-1-stand-in";

/** How long an envelope waits for its acknowledgement: Slack gives up after three seconds, a test a little later. */
const ACK_TIMEOUT_MS = 5_000;

export interface Ack {
  envelopeId: string;
  /** What the app answered with: `{}` for a bare ack, or a response such as a form's errors. */
  payload: Record<string, unknown>;
}

export interface SocketStandIn {
  /** The Web API stand-in, which also answers apps.connections.open. */
  web: SlackStandIn;
  /** Sockets greeted with hello so far (each connection the app made). */
  readonly connections: number;
  /** Resolves once the app's `n`th socket has been greeted. */
  connected(n: number, timeoutMs?: number): Promise<void>;
  /** Sends an interactive envelope over the open socket and resolves with the app's acknowledgement. */
  send(payload: { type?: string }, timeoutMs?: number): Promise<Ack>;
  /** Ends the open socket: torn down without a close frame, or Slack's `disconnect` (refresh_requested) message. */
  drop(how: "terminate" | "refresh"): Promise<void>;
  close(): Promise<void>;
}

export async function startSocketStandIn(): Promise<SocketStandIn> {
  const tickets = new Set<string>();
  const waiting = new Map<string, (ack: Ack) => void>();
  let greeted = 0;
  let open: WebSocket | undefined;

  // Only a URL that apps.connections.open handed out, and only once, as Slack's tickets are.
  const wss = new WebSocketServer({
    host: "127.0.0.1",
    port: 0,
    path: "/link/",
    verifyClient: ({ req }: { req: IncomingMessage }) => tickets.delete(new URL(req.url ?? "/", "ws://stand-in").searchParams.get("ticket") ?? ""),
  });
  await new Promise<void>((resolve) => wss.once("listening", resolve));
  const port = (wss.address() as AddressInfo).port;

  wss.on("connection", (socket) => {
    open = socket;
    socket.on("message", (data) => {
      const message = JSON.parse(String(data)) as { envelope_id?: string; payload?: Record<string, unknown> };
      const resolve = message.envelope_id ? waiting.get(message.envelope_id) : undefined;
      if (!resolve) return console.error("[socket stand-in] a message that acknowledges nothing sent:", String(data));
      waiting.delete(message.envelope_id!);
      resolve({ envelopeId: message.envelope_id!, payload: message.payload ?? {} });
    });
    socket.on("close", () => {
      if (open === socket) open = undefined;
    });
    socket.send(JSON.stringify({ type: "hello", num_connections: 1, debug_info: { host: "stand-in", approximate_connection_time: 3600 }, connection_info: { app_id: "A0AIRLOCK" } }));
    greeted++;
  });

  const web = await startSlackStandIn({
    methods: {
      "apps.connections.open": (_call, authorization) => {
        if (authorization === `Bearer ${STAND_IN_BOT_TOKEN}`) return { ok: false, error: "not_allowed_token_type" };
        if (authorization !== `Bearer ${STAND_IN_APP_TOKEN}`) return { ok: false, error: "invalid_auth" };
        const ticket = randomUUID();
        tickets.add(ticket);
        return { ok: true, url: `ws://127.0.0.1:${port}/link/?ticket=${ticket}&app_id=A0AIRLOCK` };
      },
    },
  });

  return {
    web,
    get connections() {
      return greeted;
    },
    async connected(n, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      while (greeted < n || !open) {
        if (Date.now() > deadline) throw new Error(`the app did not open Socket Mode connection ${n} within ${timeoutMs} ms (${greeted} so far)`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    send(payload, timeoutMs = ACK_TIMEOUT_MS) {
      const socket = open;
      if (!socket) return Promise.reject(new Error(`no Socket Mode connection to send the ${payload.type} envelope on`));
      const envelopeId = randomUUID();
      return new Promise<Ack>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiting.delete(envelopeId);
          reject(new Error(`the app did not acknowledge the ${payload.type} envelope ${envelopeId} within ${timeoutMs} ms`));
        }, timeoutMs);
        waiting.set(envelopeId, (ack) => {
          clearTimeout(timer);
          resolve(ack);
        });
        // Slack lets a form's submission be answered in the ack (its errors); a click's answer goes elsewhere.
        socket.send(JSON.stringify({ envelope_id: envelopeId, type: "interactive", payload, accepts_response_payload: payload.type === "view_submission" }));
      });
    },
    async drop(how) {
      const socket = open;
      if (!socket) throw new Error("no Socket Mode connection to drop");
      const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
      if (how === "terminate") socket.terminate();
      else socket.send(JSON.stringify({ type: "disconnect", reason: "refresh_requested", debug_info: { host: "stand-in" } }));
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`the Socket Mode connection did not close within ${ACK_TIMEOUT_MS} ms of a ${how}`)), ACK_TIMEOUT_MS)));
      await Promise.race([closed, late]).finally(() => clearTimeout(timer));
    },
    async close() {
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await web.close();
    },
  };
}
