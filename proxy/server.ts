import net from "node:net";
import type { SecureContext } from "node:tls";
import { CancelKeys } from "./cancel-keys";
import { serveConnection } from "./connection";
import { ConnectionSlots } from "./connection-slots";
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
  /** Stops accepting, ends every session. */
  close(): Promise<void>;
}

/** The PostgreSQL-compatible listener agents connect to. */
export async function startProxyServer(options: ProxyOptions): Promise<ProxyServer> {
  const keys = new CancelKeys();
  const slots = new ConnectionSlots(options.limits);
  const deps: ProxyDeps = { ...options, negotiateStartup: (socket) => negotiateStartup(socket, options.tls) };
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ noDelay: true }, (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    // Errors on one socket (resets, broken pipes) end that session only.
    socket.on("error", () => socket.destroy());
    void serveConnection(socket, deps, keys, slots);
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
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}
