import { randomInt, timingSafeEqual } from "node:crypto";

/**
 * The BackendKeyData the proxy hands each agent: its own random pair, never the upstream's, so a
 * CancelRequest can only reach the session it names and never a server's real process.
 */
export class CancelKeys {
  readonly #sessions = new Map<number, { secret: Buffer; cancel: () => Promise<void> }>();

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

  /** Cancels the named session's running statement if the secret matches; silent otherwise, as PostgreSQL is. */
  async cancel(processId: number, secretKey: number): Promise<boolean> {
    const session = this.#sessions.get(processId);
    if (!session || !timingSafeEqual(session.secret, int32(secretKey))) return false;
    await session.cancel();
    return true;
  }
}

function int32(value: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeInt32BE(value, 0);
  return out;
}
