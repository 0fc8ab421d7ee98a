import type { Store } from "../db/client";
import type { EventTransport } from "./bus";
import type { StoreErrorObserver } from "../ops/metrics";
import type { Instance } from "./instances";
import { PostgresEventTransport } from "./postgres-transport";
import { StoreEventTransport } from "./store-transport";

/**
 * The bus between the processes on this store: the events table on SQLite (the processes of one
 * machine), LISTEN/NOTIFY on PostgreSQL (instances anywhere), which needs the store's `url` for a
 * connection of its own. `storeError` is told when either fails to read or send (`/metrics`).
 */
export function eventTransport(store: Store, instance: Pick<Instance, "id">, url?: string, storeError?: StoreErrorObserver): EventTransport {
  if (store.dialect === "sqlite") return new StoreEventTransport(store, instance, undefined, storeError);
  if (!url) throw new Error("the event bus on a PostgreSQL store needs the store's URL");
  return new PostgresEventTransport(url, instance, storeError);
}
