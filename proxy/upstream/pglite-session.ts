import { Backend, TxStatus } from "../protocol/message-codes";
import { ownedBytes } from "./pglite-engine";
import { PgliteCopyIn } from "./pglite-copy-in";
import type { SessionState } from "./pglite-handover";
import type { Upstream } from "./upstream";

/** What a session needs of the host that shares the engine among sessions. */
export interface EngineTurns {
  /** The session has bytes to run. */
  schedule(session: PgliteSession): void;
  /** The session is gone: give its turn away and clean up after it. */
  leave(session: PgliteSession): void;
}

/**
 * One agent connection's session on a shared PGlite engine. It runs only in its turn; between
 * turns its state lives in `saved` (see pglite-handover.ts).
 */
export class PgliteSession implements Upstream {
  readonly shared = true;
  /** A batch of its bytes is in the engine. */
  busy = false;
  /** The last batch ended with ReadyForQuery outside a transaction. */
  idle = true;
  closed = false;
  #queued: Buffer[] = [];
  #lastBytes = Buffer.alloc(0);
  readonly #copyIn = new PgliteCopyIn();
  readonly #data: Array<(chunk: Buffer) => void> = [];
  readonly #closeListeners: Array<(err?: Error) => void> = [];

  constructor(
    private readonly host: EngineTurns,
    readonly parameters: ReadonlyMap<string, string>,
    /** The session as it was when it last lost the engine (at first: its startup settings). */
    public saved: SessionState,
  ) {}

  write(data: Buffer): boolean {
    if (this.closed) return false;
    let ready: Buffer[];
    try {
      ready = this.#copyIn.outgoing(data, (reply) => this.deliver(reply));
    } catch (err) {
      this.fail(err as Error); // a COPY broken off: the session ends as on a server
      return true;
    }
    if (ready.length === 0) return true;
    this.#queued.push(...ready);
    this.idle = false;
    this.host.schedule(this);
    return true;
  }

  takeQueued(): Uint8Array<ArrayBuffer> | undefined {
    if (this.#queued.length === 0) return undefined;
    const bytes = ownedBytes(this.#queued);
    this.#queued = [];
    return bytes;
  }

  hasQueued(): boolean {
    return this.#queued.length > 0;
  }

  deliver(raw: Buffer): void {
    const chunk = this.#copyIn.incoming(raw);
    this.#trackIdle(chunk);
    if (!this.closed) for (const listener of this.#data) listener(chunk);
  }

  /** Ends the session from the host's side; listeners get the reason (a PgWireError reaches the agent). */
  fail(err: Error): void {
    this.#finish(err);
  }

  onData(listener: (chunk: Buffer) => void): void {
    this.#data.push(listener);
  }

  onDrain(): void {
    // Results arrive whole from the engine; there is nothing upstream to slow down.
  }

  onClose(listener: (err?: Error) => void): void {
    this.#closeListeners.push(listener);
  }

  pause(): void {}

  resume(): void {}

  /** A statement running inside the engine cannot be interrupted (one WebAssembly thread): nothing to do. */
  async cancel(): Promise<void> {}

  close(): void {
    this.#finish();
  }

  /** Watches for ReadyForQuery at the end of a response to know when the session is idle. */
  #trackIdle(chunk: Buffer): void {
    // A copy of the last six bytes: a view would keep the whole (perhaps large) chunk alive.
    const tail = Buffer.from(chunk.length >= 6 ? chunk.subarray(-6) : Buffer.concat([this.#lastBytes, chunk]).subarray(-6));
    this.#lastBytes = tail;
    if (tail.length === 6 && tail[0] === Backend.ReadyForQuery && tail.readInt32BE(1) === 5) this.idle = tail[5] === TxStatus.Idle;
    else this.idle = false;
  }

  #finish(err?: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.#queued = [];
    this.host.leave(this);
    for (const listener of this.#closeListeners) listener(err);
  }
}
