import type { Statement } from "better-sqlite3";
import { lt } from "drizzle-orm";
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
/** Activity counts cross to other processes at most this often. */
export const ACTIVITY_EVERY_MS = 1000;

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
  #read: Statement | undefined;
  #pendingActivity: Extract<AirlockEvent, { type: "activity.recorded" }> | undefined;
  #activityTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly db: Db,
    private readonly instance: Pick<Instance, "id">,
    private readonly pollMs = EVENT_POLL_MS,
  ) {}

  start(deliver: (event: AirlockEvent) => void): void {
    this.#lastId = this.db.$client.prepare("select coalesce(max(id), 0) as id from events").pluck().get() as number;
    // Prepared once: this runs 40 times a second in every process (issue 17's profile).
    this.#read = this.db.$client.prepare("select id, origin, payload from events where id > ? order by id limit ?");
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
    if (event.type === "activity.recorded") return this.#sendActivity(event);
    this.db.insert(events).values({ origin: this.instance.id, payload: JSON.stringify(event), at: new Date() }).run();
  }

  close(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    clearTimeout(this.#activityTimer);
    this.#activityTimer = undefined;
  }

  /**
   * Activity is recorded many times a second under load and only makes other processes' pages
   * refresh: it crosses at most once per ACTIVITY_EVERY_MS (the last of a burst still goes, later).
   */
  #sendActivity(event: Extract<AirlockEvent, { type: "activity.recorded" }>): void {
    this.#pendingActivity = event;
    if (this.#activityTimer) return;
    const flush = () => {
      this.#activityTimer = undefined;
      const pending = this.#pendingActivity;
      this.#pendingActivity = undefined;
      if (!pending) return;
      this.db.insert(events).values({ origin: this.instance.id, payload: JSON.stringify(pending), at: new Date() }).run();
      this.#activityTimer = setTimeout(flush, ACTIVITY_EVERY_MS);
      this.#activityTimer.unref();
    };
    flush();
  }

  #poll(deliver: (event: AirlockEvent) => void): void {
    const rows = (this.#read?.all(this.#lastId, BATCH) ?? []) as Array<{ id: number; origin: string; payload: string }>;
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
