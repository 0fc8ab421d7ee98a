import net from "node:net";
import type { SecureContext } from "node:tls";
import { CancelKeys } from "./cancel-keys";
import { serveConnection } from "./connection";
import { ConnectionSlots } from "./connection-slots";
import { ProxySessions } from "./drain";
import type { ProxyDeps } from "./proxy-deps";
import { negotiateStartup } from "./startup";

export interface ProxyOptions extends Omit<ProxyDeps, "negotiateStartup"> {
  host: string;
  /** 0 picks a free port. */
  port: number;
  tls?: SecureContext;
}

export interface ProxyServer {
  host: string;
  port: number;
  /** Connections holding a slot now (AIRLOCK_MAX_CONNECTIONS counts these). */
  slots: ConnectionSlots;
  /** Refuses new connections from now on; each session ends once idle, or when `limitMs` is up. */
  drain(limitMs: number): Promise<void>;
  /** Whether new connections are being refused (draining). */
  readonly draining: boolean;
  /** Listening and taking new connections. */
  readonly listening: boolean;
  /** Stops listening, ends every session. */
  close(): Promise<void>;
}

/** The PostgreSQL-compatible listener agents connect to. */
export async function startProxyServer(options: ProxyOptions): Promise<ProxyServer> {
  const keys = new CancelKeys(options.bus);
  const slots = new ConnectionSlots(options.limits);
  const deps: ProxyDeps = { ...options, negotiateStartup: (socket) => negotiateStartup(socket, options.tls) };
  const sessions = new ProxySessions();
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ noDelay: true }, (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    // Errors on one socket (resets, broken pipes) end that session only.
    socket.on("error", () => socket.destroy());
    void serveConnection(socket, deps, keys, slots, sessions);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as net.AddressInfo;
  return {
    host: options.host,
    port,
    slots,
    drain: (limitMs) => sessions.drain(limitMs),
    get draining() {
      return sessions.draining;
    },
    get listening() {
      return server.listening && !sessions.draining;
    },
    async close() {
      keys.close();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}
