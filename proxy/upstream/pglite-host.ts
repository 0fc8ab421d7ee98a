import path from "node:path";
import { Worker } from "node:worker_threads";
import { Backend, TxStatus } from "../protocol/message-codes";
import { SYNC, writeQuery } from "../protocol/writer";
import { PgliteCopyIn } from "./pglite-copy-in";
import type { FromWorker, PgliteWorkerData } from "./pglite-worker";
import type { Upstream } from "./upstream";

/**
 * One embedded PGlite database shared by every agent session on it. PGlite is a single backend
 * session, so a session that is inside a transaction (or an unfinished extended-protocol batch)
 * holds it until it is idle again; the others queue. A session that goes away mid-transaction is
 * rolled back before anyone else runs.
 */
export class PgliteHost {
  readonly ready: Promise<void>;
  #worker: Worker;
  #parameters = new Map<string, string>();
  #nextId = 1;
  #owner: PgliteSession | undefined;
  readonly #waiting: PgliteSession[] = [];
  readonly #running = new Map<number, PgliteSession>();
  #failure: Error | undefined;

  constructor(dataDir: string, readonly name: string) {
    const workerData: PgliteWorkerData = { dataDir: path.join(dataDir, name), seedDemo: name === "demo" };
    this.#worker = new Worker(new URL("./pglite-worker-entry.mjs", import.meta.url), { workerData });
    this.ready = new Promise((resolve, reject) => {
      this.#worker.on("message", (message: FromWorker) => {
        if (message.type === "ready") {
          this.#parameters = new Map(Object.entries(message.parameters));
          resolve();
        } else if (message.type === "failed") reject(new Error(`PGlite "${name}" failed to start: ${message.message}`));
        else this.#onResult(message);
      });
      this.#worker.on("error", (err) => this.#fail(err, reject));
      this.#worker.on("exit", (code) => this.#fail(new Error(`PGlite "${name}" worker exited with ${code}`), reject));
    });
    this.ready.catch(() => undefined); // reported to whoever connects
  }

  async connect(params: ReadonlyMap<string, string>): Promise<Upstream> {
    await this.ready;
    if (this.#failure) throw this.#failure;
    const parameters = new Map(this.#parameters);
    parameters.set("application_name", params.get("application_name") ?? "");
    return new PgliteSession(this, parameters);
  }

  async close(): Promise<void> {
    await this.#worker.terminate();
  }

  /** A session has bytes to run: now if the engine is free or already its, else in turn. */
  schedule(session: PgliteSession): void {
    if (this.#owner === undefined) this.#owner = session;
    if (this.#owner === session) this.#runNext(session);
    else if (!this.#waiting.includes(session)) this.#waiting.push(session);
  }

  owns(session: PgliteSession): boolean {
    return this.#owner === session;
  }

  /** The session is idle and has nothing queued: let the next one in. */
  release(session: PgliteSession): void {
    if (this.#owner !== session) {
      const i = this.#waiting.indexOf(session);
      if (i >= 0) this.#waiting.splice(i, 1);
      return;
    }
    this.#owner = undefined;
    const next = this.#waiting.shift();
    if (next) this.schedule(next);
  }

  #runNext(session: PgliteSession): void {
    if (session.busy) return;
    const bytes = session.takeQueued();
    if (!bytes) return;
    if (this.#failure) return session.fail(this.#failure);
    const id = this.#nextId++;
    session.busy = true;
    this.#running.set(id, session);
    this.#worker.postMessage({ id, bytes }, [bytes.buffer]);
  }

  #onResult(message: Extract<FromWorker, { id: number }>): void {
    const session = this.#running.get(message.id);
    if (!session) return;
    if (message.type === "data") return session.deliver(Buffer.from(message.data.buffer, message.data.byteOffset, message.data.byteLength));
    this.#running.delete(message.id);
    session.busy = false;
    if (message.error) return session.fail(new Error(message.error));
    if (session.hasQueued()) this.#runNext(session);
    else if (session.idle) this.release(session);
  }

  #fail(err: Error, reject: (err: Error) => void): void {
    this.#failure ??= err;
    reject(err);
    for (const session of this.#running.values()) session.fail(err);
  }
}

class PgliteSession implements Upstream {
  busy = false;
  /** Idle: the last batch ended with ReadyForQuery outside a transaction. */
  idle = true;
  #queued: Buffer[] = [];
  #closed = false;
  #lastBytes = Buffer.alloc(0);
  readonly #copyIn = new PgliteCopyIn();
  readonly #data: Array<(chunk: Buffer) => void> = [];
  readonly #closeListeners: Array<(err?: Error) => void> = [];

  constructor(
    private readonly host: PgliteHost,
    readonly parameters: ReadonlyMap<string, string>,
  ) {}

  write(data: Buffer): boolean {
    if (this.#closed) return false;
    const ready = this.#copyIn.outgoing(data, (reply) => this.deliver(reply));
    if (ready.length === 0) return true;
    this.#queued.push(...ready);
    this.idle = false;
    this.host.schedule(this);
    return true;
  }

  takeQueued(): Uint8Array<ArrayBuffer> | undefined {
    if (this.#queued.length === 0) return undefined;
    // Copied into memory of its own (never Node's shared pool), which is handed to the worker.
    const bytes = new Uint8Array(this.#queued.reduce((n, b) => n + b.length, 0));
    let offset = 0;
    for (const part of this.#queued) {
      bytes.set(part, offset);
      offset += part.length;
    }
    this.#queued = [];
    return bytes;
  }

  hasQueued(): boolean {
    return this.#queued.length > 0;
  }

  deliver(raw: Buffer): void {
    const chunk = this.#copyIn.incoming(raw);
    this.#trackIdle(chunk);
    if (!this.#closed) for (const listener of this.#data) listener(chunk);
  }

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
    if (this.#closed) return;
    this.#closed = true;
    if (this.host.owns(this) && !(this.idle && !this.busy)) {
      // Leave the shared session as we found it: finish any batch, undo any open transaction.
      this.#queued = [SYNC, writeQuery("ROLLBACK")];
      this.host.schedule(this);
    } else {
      this.#queued = [];
      this.host.release(this);
    }
    for (const listener of this.#closeListeners) listener();
  }

  /** Watches for ReadyForQuery at the end of a response to know when the session is idle. */
  #trackIdle(chunk: Buffer): void {
    const tail = Buffer.concat([this.#lastBytes, chunk]).subarray(-6);
    this.#lastBytes = tail;
    if (tail.length === 6 && tail[0] === Backend.ReadyForQuery && tail.readInt32BE(1) === 5) this.idle = tail[5] === TxStatus.Idle;
    else this.idle = false;
  }

  #finish(err?: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    this.host.release(this);
    for (const listener of this.#closeListeners) listener(err);
  }
}
