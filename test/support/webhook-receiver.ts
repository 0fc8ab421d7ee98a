import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** How the receiver answers one request: a status, or never (the connection hangs until the receiver closes). */
export type Answer = number | "hang" | { status: number; headers: Record<string, string> };

export interface Received {
  id: string;
  timestamp: number;
  /** Whether the Standard Webhooks signature checked out against the receiver's key. */
  signed: boolean;
  contentType: string | undefined;
  body: string;
  /** What the receiver answered (the hanging ones: "hang"). */
  answer: Answer;
  at: number;
}

/** Replays older than this are refused, as Standard Webhooks receivers should. */
const TOLERANCE_S = 300;

/**
 * A webhook receiver on loopback, as a receiver written from the Standard Webhooks specification
 * would check what it gets (its own code, not Airlock's): HMAC-SHA256 over `id.timestamp.body`
 * with the key, any of the space-separated `v1,` signatures, a five-minute timestamp window.
 * It answers from `answers` in turn (then 200), and records everything, signed or not.
 */
export async function startWebhookReceiver(key: Buffer, answers: Answer[] = []): Promise<{
  url: string;
  received: Received[];
  /** Events accepted (signed, answered 2xx), by webhook-id: a receiver's view of "delivered". */
  accepted(): Map<string, number>;
  answer(next: Answer[]): void;
  close(): Promise<void>;
}> {
  const received: Received[] = [];
  const hanging = new Set<ServerResponse>();
  let queue = [...answers];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString();
      const answer = queue.shift() ?? 200;
      const id = header(req.headers, "webhook-id");
      const timestamp = Number(header(req.headers, "webhook-timestamp"));
      received.push({ id, timestamp, signed: verify(key, req.headers, body), contentType: req.headers["content-type"], body, answer, at: Date.now() });
      if (answer === "hang") return void hanging.add(res);
      // A request that fails the check is refused whatever the script says: that is the receiver's job.
      if (!verify(key, req.headers, body)) return void res.writeHead(401).end("bad signature");
      if (typeof answer === "number") res.writeHead(answer).end();
      else res.writeHead(answer.status, answer.headers).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/airlock`,
    received,
    accepted() {
      const counts = new Map<string, number>();
      for (const r of received) if (r.signed && typeof r.answer !== "string" && statusOf(r.answer) < 300) counts.set(r.id, (counts.get(r.id) ?? 0) + 1);
      return counts;
    },
    answer(next) {
      queue = [...next];
    },
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The Standard Webhooks check, as a receiver makes it. */
export function verify(key: Buffer, headers: IncomingHttpHeaders, body: string, now = Date.now()): boolean {
  const id = header(headers, "webhook-id");
  const timestamp = header(headers, "webhook-timestamp");
  if (!id || !/^\d+$/.test(timestamp) || Math.abs(now / 1000 - Number(timestamp)) > TOLERANCE_S) return false;
  const expected = createHmac("sha256", key).update(`${id}.${timestamp}.${body}`).digest();
  return header(headers, "webhook-signature")
    .split(" ")
    .some((s) => {
      const [version, sig] = s.split(",");
      const given = Buffer.from(sig ?? "", "base64");
      return version === "v1" && given.length === expected.length && timingSafeEqual(given, expected);
    });
}

function statusOf(answer: Exclude<Answer, "hang">): number {
  return typeof answer === "number" ? answer : answer.status;
}

function header(headers: IncomingHttpHeaders, name: string): string {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : (v ?? "");
}
