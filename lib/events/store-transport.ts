import type { Store } from "../db/client";
import { ActivityThrottle } from "./activity-throttle";
import type { AirlockEvent, EventTransport } from "./bus";
import type { StoreErrorObserver } from "../ops/metrics";
import type { Instance } from "./instances";

/**
 * How often the events table is read: an event from another process arrives within this (plus the
 * read). 25 ms keeps a decision's p99 to the agent under 100 ms on a loaded machine (50 ms gave
 * p99 ~120 ms in test/cross-process); an empty read costs microseconds, some 40 a second.
 */
export const EVENT_POLL_MS = 25;
/** How long events are kept: far longer than any process can fall behind while it lives. */
export const EVENT_KEEP_MS = 5 * 60_000;
/** Rows read at most per poll, so a long backlog does not block the event loop in one go. */
const BATCH = 500;

/**
 * The bus between processes on one SQLite store (the dashboard and `npm run proxy`): each
 * published event is a row in `events`; every other process reads the rows after the last it saw,
 * every EVENT_POLL_MS, skipping its own. Chosen over a Unix socket because it needs no process to
 * serve it (either may start first, restart, or die) and it rides the store every process already
 * has; a read of an empty range on the primary key costs microseconds. Ids only grow and SQLite
 * has one writer at a time, so a row committed later never gets an id already passed (not so on
 * PostgreSQL, whose writers commit out of id order: there postgres-transport.ts). A process
 * starts from the newest row: what happened before it started, it reads from the store itself.
 */
export class StoreEventTransport implements EventTransport {
  #lastId = 0;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  #nextPrune = 0;
  readonly #activity = new ActivityThrottle((event) => this.#insert(event));

  constructor(
    private readonly store: Store,
    private readonly instance: Pick<Instance, "id">,
    private readonly pollMs = EVENT_POLL_MS,
    /** Told of each failed read or write of the events table (`/metrics`). */
    private readonly storeError?: StoreErrorObserver,
  ) {}

  start(deliver: (event: AirlockEvent) => void): void {
    this.store.sql
      .get<{ id: number }>("select coalesce(max(id), 0) as id from events")
      .then((row) => {
        this.#lastId = Number(row?.id ?? 0);
        this.#next(deliver);
      })
      .catch((err: unknown) => {
        this.storeError?.("events_read");
        console.error("[events] the events table cannot be read; other processes' events will not be heard:", err);
      });
  }

  send(event: AirlockEvent): void {
    this.#activity.offer(event);
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#activity.close();
  }

  /** The next read, once this one is done: reads never overlap, so none is delivered twice. */
  #next(deliver: (event: AirlockEvent) => void): void {
    if (this.#closed) return;
    this.#timer = setTimeout(() => {
      this.#poll(deliver)
        // The store busy or failing: the next poll starts where this one stopped.
        .catch((err: unknown) => {
          this.storeError?.("events_read");
          console.error("[events] reading other processes' events failed:", err);
        })
        .finally(() => this.#next(deliver));
    }, this.pollMs);
    this.#timer.unref();
  }

  #insert(event: AirlockEvent): void {
    // On SQLite the write is made as this is called, so events leave in the order they were published.
    this.store.sql
      .run("insert into events (origin, payload, at) values (?, ?, ?)", [this.instance.id, JSON.stringify(event), Date.now()])
      .catch((err: unknown) => {
        this.storeError?.("events_send");
        console.error("[events] could not pass an event to other processes:", err);
      });
  }

  async #poll(deliver: (event: AirlockEvent) => void): Promise<void> {
    const rows = await this.store.sql.all<{ id: number; origin: string; payload: string }>("select id, origin, payload from events where id > ? order by id limit ?", [this.#lastId, BATCH]);
    for (const row of rows) {
      this.#lastId = row.id;
      if (row.origin !== this.instance.id && !this.#closed) deliver(JSON.parse(row.payload) as AirlockEvent);
    }
    if (Date.now() >= this.#nextPrune) {
      this.#nextPrune = Date.now() + EVENT_KEEP_MS / 10;
      await this.store.sql.run("delete from events where at < ?", [Date.now() - EVENT_KEEP_MS]);
    }
  }
}
