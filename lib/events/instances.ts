import { randomBytes } from "node:crypto";
import os from "node:os";
import { eq, ne } from "drizzle-orm";
import type { LiveSession, LiveSessions } from "../activity/live-sessions";
import type { Store } from "../db/client";
import type { InstanceRow } from "../db/schema";
import type { EventBus } from "./bus";

/** One Airlock process run: its id is new at every start, its name is what people read. */
export interface Instance {
  id: string;
  name: string;
  host: string;
  pid: number;
}

/** How often an instance says it is alive and writes its sessions' counts. */
export const HEARTBEAT_MS = 1000;
/** Silent this long, another machine's instance is taken for gone (on this one its pid tells, at once and surely). */
export const STALE_MS = 10_000;

/** This process: AIRLOCK_INSTANCE_NAME, or host:pid. */
export function currentInstance(name = process.env.AIRLOCK_INSTANCE_NAME): Instance {
  const host = os.hostname();
  return { id: `i_${randomBytes(6).toString("hex")}`, name: name || `${host}:${process.pid}`, host, pid: process.pid };
}

/** A session of any instance, with the instance's name (the Sessions page). */
export type InstanceSession = LiveSession & { instance: string };

/**
 * The instances sharing the store, each a row it keeps current: alive (a heartbeat), and its open
 * agent sessions, so the dashboard lists every process's connections. The row is written again at
 * once when a session opens or closes; on SQLite that write is made before the event reaches
 * other processes (the bus delivers here first, and the write is issued as it is called), so a
 * page refreshed on that event sees it; on PostgreSQL, whose notice may outrun the write, by the
 * next heartbeat at worst. Statement counts lag by a heartbeat.
 */
export class InstanceRegistry {
  readonly #timer: NodeJS.Timeout;
  readonly #unsubscribe: () => void;
  #written = "";
  /** Each write's seen_at, strictly growing: a write that lands after a later one (pooled connections) changes nothing. */
  #seenAt = 0;
  #lastWrite: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(
    private readonly store: Store,
    readonly instance: Instance,
    private readonly sessions: Pick<LiveSessions, "list">,
    bus: EventBus,
  ) {
    this.#beat();
    this.#unsubscribe = bus.subscribe((event) => {
      // Another process's sessions come and go too: this row is written only if its own changed.
      if (event.type === "session.opened" || event.type === "session.closed") this.#beat(true);
    });
    this.#timer = setInterval(() => this.#beat(), HEARTBEAT_MS);
    this.#timer.unref();
  }

  /** Whether the instance that wrote a row is still running. */
  static alive(row: Pick<InstanceRow, "host" | "pid" | "seenAt">, now = Date.now()): boolean {
    // A heartbeat late on a loaded machine must not end the holds of a process still running.
    if (row.host === os.hostname()) return pidAlive(row.pid);
    return now - row.seenAt.getTime() <= STALE_MS;
  }

  /** Ids of the instances running now, this one included. */
  async liveIds(): Promise<Set<string>> {
    const { instances } = this.store.tables;
    const rows = await this.store.db.select({ id: instances.id, host: instances.host, pid: instances.pid, seenAt: instances.seenAt }).from(instances);
    return new Set([this.instance.id, ...rows.filter((r) => InstanceRegistry.alive(r)).map((r) => r.id)]);
  }

  /** Every running instance's open sessions, newest first: this one's as they are, others' as last written. */
  async sessionsEverywhere(): Promise<InstanceSession[]> {
    const { instances } = this.store.tables;
    const own = this.sessions.list().map((s) => ({ ...s, instance: this.instance.name }));
    const rows = await this.store.db.select().from(instances).where(ne(instances.id, this.instance.id));
    const others = rows.filter((r) => InstanceRegistry.alive(r)).flatMap((r) => parseSessions(r.sessions).map((s) => ({ ...s, instance: r.name })));
    return [...own, ...others].sort((a, b) => b.startedAt.getTime() - a.startedAt.getTime());
  }

  /** On a clean shutdown: gone at once, not after STALE_MS. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    this.#unsubscribe();
    // After the last beat, which would otherwise put the row back.
    await this.#lastWrite;
    const { instances } = this.store.tables;
    await this.#safely(this.store.db.delete(instances).where(eq(instances.id, this.instance.id)));
  }

  /** Writes this instance's row (back, if another instance pruned it after a long stall) and prunes the long gone. */
  #beat(onlyIfChanged = false): void {
    if (this.#closed) return;
    const sessions = JSON.stringify(this.sessions.list());
    if (onlyIfChanged && sessions === this.#written) return;
    this.#written = sessions;
    this.#seenAt = Math.max(Date.now(), this.#seenAt + 1);
    const { id, name, host, pid } = this.instance;
    const seenAt = this.#seenAt;
    // Issued now, not after the last write: on SQLite it must be made before the event that caused it crosses.
    const written = this.store.sql.run(
      `insert into instances (id, name, host, pid, started_at, seen_at, sessions) values (?, ?, ?, ?, ?, ?, ?)
       on conflict (id) do update set seen_at = excluded.seen_at, sessions = excluded.sessions where instances.seen_at < excluded.seen_at`,
      [id, name, host, pid, seenAt, seenAt, sessions],
    );
    // Rows of instances long gone (killed, so never removed) would only grow: a missing row reads as gone too.
    const pruned = this.store.sql.run("delete from instances where id <> ? and seen_at < ?", [id, Date.now() - 6 * STALE_MS]);
    this.#lastWrite = this.#safely(Promise.all([written, pruned]));
  }

  async #safely(write: Promise<unknown>): Promise<void> {
    try {
      await write;
    } catch (err) {
      // The next heartbeat writes the row whole again.
      this.#written = "";
      console.error("[instances] could not update this instance's row:", err);
    }
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, under another user.
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Sessions as JSON gives them back: dates as strings. */
function parseSessions(json: string): LiveSession[] {
  return (JSON.parse(json) as LiveSession[]).map((s) => ({
    ...s,
    startedAt: new Date(s.startedAt),
    lastStatement: s.lastStatement && { ...s.lastStatement, at: new Date(s.lastStatement.at) },
  }));
}
