import { Worker } from "node:worker_threads";
import type { StoreAddress } from "../db/client";
import type { ActivityRecord, RecordWriter, WrittenCounts } from "./records";
import type { FromWriter, ToWriter } from "./writer-thread";

/** How long a closing writer may take to finish its store before it is stopped. */
const CLOSE_TIMEOUT_MS = 5_000;

interface Thread {
  worker: Worker;
  /** Resolves when the thread has ended, however it ended. */
  exited: Promise<unknown>;
}

interface Waiting {
  resolve(counts: WrittenCounts): void;
  reject(err: Error): void;
}

/**
 * Writes the recorder's batches on a thread of its own, with its own connection to the store:
 * the inserts and the audit chain's hashing (synchronous on SQLite) never hold up a statement.
 * If the thread dies, the batches it had fail (the recorder keeps them) and the next write starts
 * a new one.
 */
export class ThreadWriter implements RecordWriter {
  #thread: Promise<Thread> | undefined;
  #nextId = 1;
  readonly #waiting = new Map<number, Waiting>();

  private constructor(private readonly store: StoreAddress) {}

  /** Resolves once the thread has opened the store: a store it cannot open fails the start. */
  static async start(store: StoreAddress): Promise<ThreadWriter> {
    const writer = new ThreadWriter(store);
    await writer.#current();
    return writer;
  }

  async write(records: readonly ActivityRecord[]): Promise<WrittenCounts> {
    const { worker } = await this.#current();
    const id = this.#nextId++;
    const written = new Promise<WrittenCounts>((resolve, reject) => this.#waiting.set(id, { resolve, reject }));
    // Held open only while a write is out: an idle writer never keeps the process alive.
    worker.ref();
    worker.postMessage({ type: "write", id, records } satisfies ToWriter);
    return written;
  }

  async close(): Promise<void> {
    const starting = this.#thread;
    this.#thread = undefined;
    const thread = await starting?.catch(() => undefined);
    if (!thread) return;
    thread.worker.postMessage({ type: "close" } satisfies ToWriter);
    // The timer also keeps the process up until the thread has closed the store.
    const timer = setTimeout(() => void thread.worker.terminate(), CLOSE_TIMEOUT_MS);
    await thread.exited;
    clearTimeout(timer);
  }

  #current(): Promise<Thread> {
    this.#thread ??= this.#spawn();
    return this.#thread;
  }

  #spawn(): Promise<Thread> {
    const worker = new Worker(new URL("./writer-thread-entry.mjs", import.meta.url), { workerData: this.store, resourceLimits: { maxYoungGenerationSizeMb: 2 } });
    worker.unref();
    const exited = new Promise((resolve) => worker.once("exit", resolve));
    const started = new Promise<Thread>((resolve, reject) => {
      worker.on("message", (message: FromWriter) => {
        if (message.type === "ready") return resolve({ worker, exited });
        if (message.type === "failed") return reject(new Error(`the audit writer could not open the store: ${message.message}`));
        const waiting = this.#waiting.get(message.id);
        this.#waiting.delete(message.id);
        if (this.#waiting.size === 0) worker.unref();
        if (message.type === "written") waiting?.resolve(message.counts);
        else waiting?.reject(new Error(message.message));
      });
      const gone = (err: Error) => {
        if (this.#thread === started) this.#thread = undefined;
        reject(err);
        for (const waiting of this.#waiting.values()) waiting.reject(err);
        this.#waiting.clear();
      };
      worker.on("error", gone);
      worker.on("exit", (code) => gone(new Error(`the audit writer's thread exited (${code})`)));
    });
    return started;
  }
}
