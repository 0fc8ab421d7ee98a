/**
 * The recorder's writer thread (lib/activity/thread-writer.ts): its own connection to the store,
 * one batch at a time. The process that started it has applied the migrations already.
 * In: `{ type: "write", id, records }`, `{ type: "close" }`. Out: `ready` or `failed` once, then
 * `written` or `refused` per batch.
 */
import { parentPort, workerData } from "node:worker_threads";
import { AuditLog } from "../audit/log";
import { reopenStore, type Store, type StoreAddress } from "../db/client";
import { StoreWriter, type ActivityRecord, type WrittenCounts } from "./records";

export type ToWriter = { type: "write"; id: number; records: readonly ActivityRecord[] } | { type: "close" };
export type FromWriter =
  | { type: "ready" }
  | { type: "failed"; message: string }
  | { type: "written"; id: number; counts: WrittenCounts }
  | { type: "refused"; id: number; message: string };

const port = parentPort!;
const address = workerData as StoreAddress;

/** The store and its writer; undefined when the store could not be opened (the thread then ends). */
const opened: Promise<{ store: Store; writer: StoreWriter } | undefined> = reopenStore(address).then(
  (store) => {
    port.postMessage({ type: "ready" } satisfies FromWriter);
    return { store, writer: new StoreWriter(store, new AuditLog(store)) };
  },
  (err: unknown) => {
    // The thread ends once its port closes: nothing else keeps it.
    port.postMessage({ type: "failed", message: messageOf(err) } satisfies FromWriter);
    port.close();
    return undefined;
  },
);

let queue: Promise<void> = Promise.resolve();
port.on("message", (message: ToWriter) => {
  queue = queue.then(() => (message.type === "write" ? write(message.id, message.records) : close()));
});

async function write(id: number, records: readonly ActivityRecord[]): Promise<void> {
  try {
    const open = await opened;
    if (!open) throw new Error("the store is not open");
    port.postMessage({ type: "written", id, counts: await open.writer.write(records) } satisfies FromWriter);
  } catch (err) {
    port.postMessage({ type: "refused", id, message: messageOf(err) } satisfies FromWriter);
  }
}

async function close(): Promise<void> {
  await (await opened)?.store.close().catch(() => undefined);
  port.close();
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
