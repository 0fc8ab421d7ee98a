import path from "node:path";
import { Worker } from "node:worker_threads";
import type { FromWorker, PgliteWorkerData } from "./pglite-worker";

interface Batch {
  onData(chunk: Buffer): void;
  resolve(): void;
  reject(err: Error): void;
}

/**
 * The embedded PGlite database in its worker thread, as a queue of protocol batches: each batch
 * runs whole, in the order it was sent, and streams its answer back. Who may send what is the
 * host's business; this only carries bytes. `onStopped` hears of an engine that stops after it
 * started (its worker gone, as after a FATAL inside PGlite), never of a close().
 */
export class PgliteEngine {
  readonly ready: Promise<void>;
  /** ParameterStatus values the engine reports (server_version, TimeZone…). */
  parameters: ReadonlyMap<string, string> = new Map();
  #nextId = 1;
  #failure: Error | undefined;
  #started = false;
  #closing = false;
  readonly #worker: Worker;
  readonly #batches = new Map<number, Batch>();

  constructor(dataDir: string, name: string, onStopped: (err: Error) => void = () => undefined) {
    const workerData: PgliteWorkerData = { dataDir: path.join(dataDir, name), seedDemo: name === "demo" };
    this.#worker = new Worker(new URL("./pglite-worker-entry.mjs", import.meta.url), { workerData });
    this.ready = new Promise((resolve, reject) => {
      this.#worker.on("message", (message: FromWorker) => {
        if (message.type === "ready") {
          this.parameters = new Map(Object.entries(message.parameters));
          this.#started = true;
          resolve();
        } else if (message.type === "failed") reject(new Error(`PGlite "${name}" failed to start: ${message.message}`));
        // Told first, so its sessions end with the reason rather than with their batch's error.
        else if (message.type === "done" && message.stopped) stopped(new Error(`PGlite "${name}" stopped: ${message.error}`));
        else this.#onResult(message);
      });
      const stopped = (err: Error) => {
        const running = this.#started && !this.#closing && !this.#failure;
        if (running) onStopped(err);
        this.#fail(err, reject);
      };
      this.#worker.on("error", stopped);
      this.#worker.on("exit", (code) => stopped(new Error(`PGlite "${name}" worker exited with ${code}`)));
    });
    this.ready.catch(() => undefined); // reported to whoever connects
  }

  get failure(): Error | undefined {
    return this.#failure;
  }

  /** Queues a batch; resolves once the engine has answered all of it. */
  run(bytes: Uint8Array<ArrayBuffer>, onData: (chunk: Buffer) => void): Promise<void> {
    if (this.#failure) return Promise.reject(this.#failure);
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#batches.set(id, { onData, resolve, reject });
      this.#worker.postMessage({ id, bytes }, [bytes.buffer]);
    });
  }

  /** Runs a batch of Airlock's own and returns the whole answer. */
  async answer(bytes: Uint8Array<ArrayBuffer>): Promise<Buffer> {
    const chunks: Buffer[] = [];
    await this.run(bytes, (chunk) => chunks.push(chunk));
    return Buffer.concat(chunks);
  }

  async close(): Promise<void> {
    this.#closing = true;
    await this.#worker.terminate();
  }

  #onResult(message: Extract<FromWorker, { id: number }>): void {
    const batch = this.#batches.get(message.id);
    if (!batch) return;
    if (message.type === "data") return batch.onData(Buffer.from(message.data.buffer, message.data.byteOffset, message.data.byteLength));
    this.#batches.delete(message.id);
    if (message.error) batch.reject(new Error(message.error));
    else batch.resolve();
  }

  #fail(err: Error, reject: (err: Error) => void): void {
    this.#failure ??= err;
    reject(err);
    for (const batch of this.#batches.values()) batch.reject(err);
    this.#batches.clear();
  }
}

/** Copies buffers into memory of its own (never Node's shared pool), which is handed to the worker. */
export function ownedBytes(parts: readonly Buffer[]): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(parts.reduce((n, b) => n + b.length, 0));
  let offset = 0;
  for (const part of parts) {
    bytes.set(part, offset);
    offset += part.length;
  }
  return bytes;
}
