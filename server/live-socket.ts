import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, type WebSocket } from "ws";
import type { EventBus } from "../lib/events/bus";
import type { RoleGroups } from "../lib/config";
import { roleForGroups } from "../lib/identity/roles";
import { readSessionCookie } from "./session-cookie";

export const LIVE_PATH = "/api/live";
/** A browser that stops reading must not make the server buffer without bound. */
const MAX_BUFFERED_BYTES = 1024 * 1024;
const PING_INTERVAL_MS = 30_000;

export interface LiveSocketOptions {
  bus: EventBus;
  authSecret: string;
  secureCookies: boolean;
  roleGroups: RoleGroups;
  /** The dashboard's origin (from AIRLOCK_PUBLIC_URL): the only page whose scripts may open the socket. */
  origin: string;
}

/**
 * `/api/live`: pushes bus events to signed-in browsers. The session cookie is checked at the
 * upgrade, so a signed-out client never gets a socket at all.
 */
export function createLiveSocket(options: LiveSocketOptions) {
  const wss = new WebSocketServer({ noServer: true, maxPayload: 4096 });

  const ping = setInterval(() => {
    for (const ws of wss.clients) ws.ping();
  }, PING_INTERVAL_MS);
  ping.unref();

  async function upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    // The browser sends the session cookie whichever site's script opens the socket: without this,
    // any page a signed-in person visits could read the live events (cross-site websocket hijacking).
    if (req.headers.origin !== options.origin) {
      socket.end("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
      return;
    }
    const person = await readSessionCookie(req, options.authSecret, options.secureCookies);
    if (!person) {
      socket.end("HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => serve(ws, person.email, roleForGroups(person.groups, options.roleGroups)));
  }

  function serve(ws: WebSocket, email: string, role: string): void {
    const send = (message: unknown) => {
      if (ws.bufferedAmount > MAX_BUFFERED_BYTES) return ws.terminate();
      ws.send(JSON.stringify(message));
    };
    const unsubscribe = options.bus.subscribe((event) => send({ type: "event", event }));
    ws.on("close", unsubscribe);
    ws.on("error", unsubscribe);
    // Browsers only listen; anything they send is ignored rather than interpreted.
    ws.on("message", () => undefined);
    send({ type: "hello", email, role });
  }

  function close(): void {
    clearInterval(ping);
    for (const ws of wss.clients) ws.terminate();
    wss.close();
  }

  return { upgrade, close };
}
