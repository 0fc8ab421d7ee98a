import { randomBytes } from "node:crypto";
import os from "node:os";
import { and, eq, lt, ne } from "drizzle-orm";
import type { LiveSession, LiveSessions } from "../activity/live-sessions";
import type { Db } from "../db/client";
import { instances, type InstanceRow } from "../db/schema";
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
 * once when a session opens or closes, before the event reaches other processes (the bus delivers
 * here first), so a page refreshed on that event sees it; statement counts lag by a heartbeat.
 */
export class InstanceRegistry {
  readonly #timer: NodeJS.Timeout;
  readonly #unsubscribe: () => void;
  #written = "";

  constructor(
    private readonly db: Db,
    readonly instance: Instance,
    private readonly sessions: Pick<LiveSessions, "list">,
    bus: EventBus,
  ) {
    const now = new Date();
    db.insert(instances).values({ id: instance.id, name: instance.name, host: instance.host, pid: instance.pid, startedAt: now, seenAt: now }).run();
    this.#unsubscribe = bus.subscribe((event) => {
      // Another process's sessions come and go too: this row is written only if its own changed.
      if (event.type === "session.opened" || event.type === "session.closed") this.#safely(() => this.#beat(true));
    });
    this.#timer = setInterval(() => this.#safely(() => this.#beat()), HEARTBEAT_MS);
    this.#timer.unref();
  }

  /** Whether the instance that wrote a row is still running. */
  static alive(row: Pick<InstanceRow, "host" | "pid" | "seenAt">, now = Date.now()): boolean {
    // A heartbeat late on a loaded machine must not end the holds of a process still running.
    if (row.host === os.hostname()) return pidAlive(row.pid);
    return now - row.seenAt.getTime() <= STALE_MS;
  }

  /** Ids of the instances running now, this one included. */
  liveIds(): Set<string> {
    const rows = this.db.select({ id: instances.id, host: instances.host, pid: instances.pid, seenAt: instances.seenAt }).from(instances).all();
    return new Set([this.instance.id, ...rows.filter((r) => InstanceRegistry.alive(r)).map((r) => r.id)]);
  }

  /** Every running instance's open sessions, newest first: this one's as they are, others' as last written. */
  sessionsEverywhere(): InstanceSession[] {
    const own = this.sessions.list().map((s) => ({ ...s, instance: this.instance.name }));
    const others = this.db
      .select()
      .from(instances)
      .where(ne(instances.id, this.instance.id))
      .all()
      .filter((r) => InstanceRegistry.alive(r))
      .flatMap((r) => parseSessions(r.sessions).map((s) => ({ ...s, instance: r.name })));
    return [...own, ...others].sort((a, b) => b.startedAt.getTime() - a.startedAt.getTime());
  }

  /** On a clean shutdown: gone at once, not after STALE_MS. */
  close(): void {
    clearInterval(this.#timer);
    this.#unsubscribe();
    this.#safely(() => this.db.delete(instances).where(eq(instances.id, this.instance.id)).run());
  }

  #beat(onlyIfChanged = false): void {
    const sessions = JSON.stringify(this.sessions.list());
    const changed = sessions !== this.#written;
    if (onlyIfChanged && !changed) return;
    this.db
      .update(instances)
      .set(changed ? { seenAt: new Date(), sessions } : { seenAt: new Date() })
      .where(eq(instances.id, this.instance.id))
      .run();
    this.#written = sessions;
    // Rows of instances long gone (killed, so never removed) would only grow: a missing row reads as gone too.
    this.db.delete(instances).where(and(ne(instances.id, this.instance.id), lt(instances.seenAt, new Date(Date.now() - 6 * STALE_MS)))).run();
  }

  #safely(run: () => void): void {
    try {
      run();
    } catch (err) {
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
