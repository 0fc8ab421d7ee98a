import pg from "pg";
import { ActivityThrottle } from "./activity-throttle";
import type { AirlockEvent, EventTransport } from "./bus";
import type { StoreErrorObserver } from "../ops/metrics";
import type { Instance } from "./instances";
import { EVENT_KEEP_MS } from "./store-transport";

/** The NOTIFY channel every instance on the store listens to. */
export const EVENTS_CHANNEL = "airlock_events";
/**
 * NOTIFY refuses a payload of 8000 bytes or more. A bigger one (events carry ids and states, so
 * only by mistake) is written to the events table and its id notified: receivers read it back.
 */
export const MAX_NOTIFY_BYTES = 7000;
/** The listening connection's name in pg_stat_activity. */
export const EVENTS_APPLICATION_NAME = "airlock-events";
/** After a lost connection: the first retry waits this long, each further one twice as long, up to RECONNECT_MAX_MS. */
export const RECONNECT_MIN_MS = 100;
export const RECONNECT_MAX_MS = 5_000;

type Notice = { origin: string; event: AirlockEvent } | { origin: string; id: number };

/** Writes the event, prunes what is past keeping, and notifies the row's id: one statement, so the row is there when the notice is. */
const SEND_BY_TABLE = `with pruned as (delete from events where at < $5),
  stored as (insert into events (origin, payload, at) values ($2, $3, $4) returning id)
  select pg_notify($1, json_build_object('origin', $2::text, 'id', id)::text) from stored`;

/**
 * The bus between instances on one PostgreSQL store: LISTEN/NOTIFY on a connection of its own
 * (a pooled one would be handed to others, and a listener must stay put). Every event is sent on
 * that one connection, so they arrive everywhere in the order they were published. An instance
 * hears only what is notified while it listens: after a lost connection it reconnects with backoff
 * and carries on from then, as a process just started does (what it missed it reads from the
 * store itself); events sent while the connection is down are not passed on.
 */
export class PostgresEventTransport implements EventTransport {
  #client: pg.Client | undefined;
  /** Bumped per connection: work begun on an earlier one delivers nothing. */
  #generation = 0;
  #deliver: ((event: AirlockEvent) => void) | undefined;
  #closed = false;
  #down = false;
  #retryMs = RECONNECT_MIN_MS;
  #reconnect: NodeJS.Timeout | undefined;
  /** Received notices, handled one after another: one read back from the table keeps its place. */
  #received: Promise<void> = Promise.resolve();
  #listening = deferred();
  readonly #activity = new ActivityThrottle((event) => this.#notify(event));

  constructor(
    private readonly url: string,
    private readonly instance: Pick<Instance, "id">,
    /** Told of each lost (or failed) listening connection, read back or send that failed (`/metrics`). */
    private readonly storeError?: StoreErrorObserver,
  ) {}

  start(deliver: (event: AirlockEvent) => void): void {
    this.#deliver = deliver;
    void this.#connect();
  }

  /** Resolves once it listens (again, after a lost connection). */
  listening(): Promise<void> {
    return this.#listening.promise;
  }

  send(event: AirlockEvent): void {
    this.#activity.offer(event);
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#reconnect);
    this.#activity.close();
    this.#client?.end().catch(() => undefined);
    this.#client = undefined;
  }

  async #connect(): Promise<void> {
    const generation = ++this.#generation;
    const client = new pg.Client({ connectionString: this.url, application_name: EVENTS_APPLICATION_NAME, keepAlive: true });
    let gone = false;
    // A broken connection emits "error" and then "end" (or only one of them): one outage either way.
    const lost = (err?: Error) => {
      if (gone) return;
      gone = true;
      this.#lost(client, err);
    };
    client.on("error", lost);
    client.on("end", () => lost());
    client.on("notification", (n) => {
      if (n.payload && generation === this.#generation) this.#receive(client, generation, n.payload);
    });
    try {
      await client.connect();
      await client.query(`listen ${EVENTS_CHANNEL}`);
    } catch (err) {
      return lost(err as Error);
    }
    if (this.#closed || gone) return void client.end().catch(() => undefined);
    this.#client = client;
    if (this.#down) console.log("[events] listening to other instances again");
    this.#down = false;
    this.#retryMs = RECONNECT_MIN_MS;
    this.#listening.resolve();
  }

  #lost(client: pg.Client, err: Error | undefined): void {
    if (this.#client === client) this.#client = undefined;
    client.end().catch(() => undefined);
    if (this.#closed) return;
    this.storeError?.("events_read");
    // Once per outage, not per attempt: a store down for minutes must not flood the log.
    if (!this.#down) console.error(`[events] lost the connection to other instances${err ? ` (${err.message})` : ""}; reconnecting, and their events until then are missed`);
    this.#down = true;
    if (this.#listening.settled) this.#listening = deferred();
    this.#reconnect = setTimeout(() => void this.#connect(), this.#retryMs);
    this.#reconnect.unref();
    this.#retryMs = Math.min(this.#retryMs * 2, RECONNECT_MAX_MS);
  }

  #notify(event: AirlockEvent): void {
    // Before the first connection is up, events wait for it; during an outage they are not passed on.
    if (!this.#client && !this.#down) return void this.listening().then(() => this.#notify(event));
    const client = this.#client;
    if (!client) return;
    const origin = this.instance.id;
    const notice = JSON.stringify({ origin, event } satisfies Notice);
    const sent =
      Buffer.byteLength(notice) <= MAX_NOTIFY_BYTES
        ? client.query("select pg_notify($1, $2)", [EVENTS_CHANNEL, notice])
        : client.query(SEND_BY_TABLE, [EVENTS_CHANNEL, origin, JSON.stringify(event), Date.now(), Date.now() - EVENT_KEEP_MS]);
    sent.catch((err: unknown) => {
      // On a connection that broke, the outage is logged once by #lost.
      if (client !== this.#client) return;
      this.storeError?.("events_send");
      console.error("[events] could not pass an event to other instances:", err);
    });
  }

  #receive(client: pg.Client, generation: number, payload: string): void {
    // Anyone who can connect to the store can NOTIFY this channel: what is not a notice is dropped.
    const notice = readNotice(payload);
    if (!notice) return console.error("[events] an unreadable notice on the events channel was ignored");
    if (notice.origin === this.instance.id) return;
    this.#received = this.#received
      .then(async () => {
        const event = "event" in notice ? notice.event : await readBack(client, notice.id);
        if (event && generation === this.#generation && !this.#closed) this.#deliver?.(event);
      })
      .catch((err: unknown) => {
        this.storeError?.("events_read");
        console.error("[events] reading another instance's event back failed:", err);
      });
  }
}

function readNotice(payload: string): Notice | undefined {
  let value: unknown;
  try {
    value = JSON.parse(payload);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null || typeof (value as { origin?: unknown }).origin !== "string") return undefined;
  const { event, id } = value as { event?: unknown; id?: unknown };
  if (typeof event === "object" && event !== null && typeof (event as { type?: unknown }).type === "string") return value as Notice;
  return Number.isSafeInteger(id) ? (value as Notice) : undefined;
}

async function readBack(client: pg.Client, id: number): Promise<AirlockEvent | undefined> {
  const { rows } = await client.query<{ payload: string }>("select payload from events where id = $1", [id]);
  return rows[0] && (JSON.parse(rows[0].payload) as AirlockEvent);
}

function deferred(): { promise: Promise<void>; resolve(): void; settled: boolean } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  const d = {
    promise,
    settled: false,
    resolve: () => {
      d.settled = true;
      resolve();
    },
  };
  return d;
}
