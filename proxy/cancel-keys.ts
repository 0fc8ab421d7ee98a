import { createHash, randomInt, timingSafeEqual } from "node:crypto";
import type { AirlockEvent, EventBus } from "../lib/events/bus";

/** Cancel requests for sessions of other instances passed on per second, at most: each is unauthenticated. */
export const FORWARDED_CANCELS_PER_SECOND = 50;

type CancelForwarded = Extract<AirlockEvent, { type: "session.cancel_requested" }>;

/**
 * The BackendKeyData the proxy hands each agent: its own random pair, never the upstream's, so a
 * CancelRequest can only reach the session it names and never a server's real process.
 *
 * A driver sends its CancelRequest on a new connection, which a load balancer may take to another
 * instance (or another worker): a key this instance did not issue is passed on over the bus, as a
 * digest of the pair (so a listener on the store's channel learns no key), and the instance that
 * issued it cancels. Unknown keys cost a bus message each, so they are capped per second.
 */
export class CancelKeys {
  readonly #sessions = new Map<number, { secret: Buffer; cancel: () => Promise<void> }>();
  #window = { second: 0, forwarded: 0 };
  readonly #unsubscribe: () => void;

  constructor(private readonly bus?: EventBus) {
    this.#unsubscribe =
      bus?.subscribe((event) => {
        if (event.type === "session.cancel_requested") void this.#cancelForwarded(event);
      }) ?? (() => undefined);
  }

  /** Stops answering other instances' forwarded cancels (the proxy is closing). */
  close(): void {
    this.#unsubscribe();
  }

  issue(cancel: () => Promise<void>): { processId: number; secretKey: number } {
    let processId: number;
    do processId = randomInt(1, 2 ** 31 - 1);
    while (this.#sessions.has(processId));
    const secretKey = randomInt(-(2 ** 31), 2 ** 31 - 1);
    this.#sessions.set(processId, { secret: int32(secretKey), cancel });
    return { processId, secretKey };
  }

  release(processId: number): void {
    this.#sessions.delete(processId);
  }

  /**
   * Cancels the named session's running statement if the secret matches; silent otherwise, as
   * PostgreSQL is. A key issued elsewhere is passed on (true: this instance did its part).
   */
  async cancel(processId: number, secretKey: number): Promise<boolean> {
    const session = this.#sessions.get(processId);
    if (session) {
      if (!timingSafeEqual(session.secret, int32(secretKey))) return false;
      await session.cancel();
      return true;
    }
    if (!this.bus || !this.#mayForward()) return false;
    this.bus.publish({ type: "session.cancel_requested", processId, digest: keyDigest(processId, int32(secretKey)) });
    return true;
  }

  async #cancelForwarded(event: CancelForwarded): Promise<void> {
    const session = this.#sessions.get(event.processId);
    if (!session || typeof event.digest !== "string") return;
    const expected = Buffer.from(keyDigest(event.processId, session.secret), "hex");
    const given = Buffer.from(event.digest, "hex");
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return;
    await session.cancel().catch(() => undefined);
  }

  #mayForward(): boolean {
    const second = Math.floor(Date.now() / 1000);
    if (this.#window.second !== second) this.#window = { second, forwarded: 0 };
    return ++this.#window.forwarded <= FORWARDED_CANCELS_PER_SECOND;
  }
}

function keyDigest(processId: number, secret: Buffer): string {
  return createHash("sha256").update(int32(processId)).update(secret).digest("hex");
}

function int32(value: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeInt32BE(value, 0);
  return out;
}
