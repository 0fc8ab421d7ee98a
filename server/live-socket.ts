import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, type WebSocket } from "ws";
import { sameEmail } from "../lib/approvals/people";
import type { EventBus } from "../lib/events/bus";
import { liveView } from "../lib/events/live-view";
import type { RoleGroups } from "../lib/config";
import { roleForGroups, type Role } from "../lib/identity/roles";
import { readSessionCookie, type CookiePerson } from "./session-cookie";

export const LIVE_PATH = "/api/live";
/** A browser that stops reading must not make the server buffer without bound. */
const MAX_BUFFERED_BYTES = 1024 * 1024;
const PING_INTERVAL_MS = 30_000;
/** The close code a browser sees when the session that opened its socket has ended. */
export const SESSION_ENDED = 4401;
/** setTimeout's ceiling; a session longer than this is re-checked by reconnecting. */
const MAX_TIMER_MS = 2 ** 31 - 1;

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
    wss.handleUpgrade(req, socket, head, (ws) => serve(ws, person, roleForGroups(person.groups, options.roleGroups)));
  }

  function serve(ws: WebSocket, person: CookiePerson, role: Role): void {
    const { email } = person;
    const send = (message: unknown) => {
      if (ws.bufferedAmount > MAX_BUFFERED_BYTES) return ws.terminate();
      ws.send(JSON.stringify(message));
    };
    // The socket lives no longer than the session that opened it: its expiry or a sign-out ends it
    // (a browser still signed in reconnects with its fresh cookie; one signed out is refused).
    const expiry = setTimeout(() => ws.close(SESSION_ENDED, "session expired"), Math.min(Math.max(0, person.expiresAt - Date.now()), MAX_TIMER_MS));
    const unsubscribe = options.bus.subscribe((event) => {
      if (event.type === "person.signed_out" && sameEmail(event.email, email)) return ws.close(SESSION_ENDED, "signed out");
      const view = liveView(event, { role, groups: person.groups });
      if (view) send({ type: "event", event: view });
    });
    const end = () => {
      unsubscribe();
      clearTimeout(expiry);
    };
    ws.on("close", end);
    ws.on("error", end);
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
