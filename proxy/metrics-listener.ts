import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { METRICS_PATH, serveMetrics, type AirlockMetrics } from "../lib/ops/metrics";

/**
 * `/metrics` on a port of its own (AIRLOCK_METRICS_PORT), for `npm start` and `npm run proxy`
 * alike; a token, when set, is required here too. Anything else on that port is 404.
 */
export async function listenMetrics(metrics: AirlockMetrics, options: { host: string; port: number; token: string | undefined }): Promise<{ url: string; close(): void }> {
  const server: Server = createServer((req, res) => {
    const path = req.url?.split("?")[0];
    if (path === METRICS_PATH) return void serveMetrics(metrics.registry, options.token, req, res);
    res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host === "0.0.0.0" || options.host === "" ? "127.0.0.1" : options.host.includes(":") ? `[${options.host}]` : options.host;
  return { url: `http://${host}:${port}${METRICS_PATH}`, close: () => server.close() };
}
