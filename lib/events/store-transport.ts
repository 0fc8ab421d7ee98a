import { gt, lt } from "drizzle-orm";
import type { Db } from "../db/client";
import { events } from "../db/schema";
import type { AirlockEvent, EventTransport } from "./bus";
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
 * has one writer at a time, so a row committed later never gets an id already passed. A process
 * starts from the newest row: what happened before it started, it reads from the store itself.
 */
export class StoreEventTransport implements EventTransport {
  #lastId = 0;
  #timer: NodeJS.Timeout | undefined;
  #nextPrune = 0;

  constructor(
    private readonly db: Db,
    private readonly instance: Pick<Instance, "id">,
    private readonly pollMs = EVENT_POLL_MS,
  ) {}

  start(deliver: (event: AirlockEvent) => void): void {
    this.#lastId = this.db.$client.prepare("select coalesce(max(id), 0) as id from events").pluck().get() as number;
    this.#timer = setInterval(() => {
      try {
        this.#poll(deliver);
      } catch (err) {
        // The store busy or failing: the next poll starts where this one stopped.
        console.error("[events] reading other processes' events failed:", err);
      }
    }, this.pollMs);
    this.#timer.unref();
  }

  send(event: AirlockEvent): void {
    this.db.insert(events).values({ origin: this.instance.id, payload: JSON.stringify(event), at: new Date() }).run();
  }

  close(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #poll(deliver: (event: AirlockEvent) => void): void {
    const rows = this.db
      .select({ id: events.id, origin: events.origin, payload: events.payload })
      .from(events)
      .where(gt(events.id, this.#lastId))
      .orderBy(events.id)
      .limit(BATCH)
      .all();
    for (const row of rows) {
      this.#lastId = row.id;
      if (row.origin !== this.instance.id) deliver(JSON.parse(row.payload) as AirlockEvent);
    }
    if (Date.now() >= this.#nextPrune) this.#prune();
  }

  #prune(): void {
    this.#nextPrune = Date.now() + EVENT_KEEP_MS / 10;
    this.db.delete(events).where(lt(events.at, new Date(Date.now() - EVENT_KEEP_MS))).run();
  }
}
