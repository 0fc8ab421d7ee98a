import { preparedOnAnotherPath } from "../lib/sql/classify";
import { pathKey, type PathValue } from "../lib/sql/search-path";
import type { Classification, PreparedLookup, StatementInfo } from "../lib/sql/types";
import type { Described } from "./response-tracker";

/** A prepared statement: the text that runs when it is bound (a Parse's text, or the whole `PREPARE … AS …`). */
export interface PreparedName {
  text: string;
  info: StatementInfo;
  /** The columns a Describe of it showed. */
  described: Described;
  /** Its classification at Parse, when it looks up no other name (then Bind need not classify again). */
  classification?: Classification;
  /** The text the server was sent instead, under row filters (proxy/row-filter-messages.ts). */
  sent?: string;
}

/** A portal, made by Bind or by SQL `DECLARE` (a cursor), as it was judged; WITH HOLD outlives its transaction. */
export interface PortalName<J> {
  judged: J;
  holdable: boolean;
}

/** What a name stands for when the server reaches the message that uses it. */
export type Lookup<V> = { state: "known"; value: V } | { state: "absent" } | { state: "unsettled" };

/** Called with the server's verdict on the message that made a change: true when it took effect. */
export type Settle = (ok: boolean) => void;

/**
 * A session's statement and portal names as PostgreSQL will have them when it reaches each
 * message. Prepared statements made by the protocol's Parse and by SQL `PREPARE` share one
 * namespace, as on the server; portals made by Bind and cursors made by `DECLARE` share another.
 *
 * A change is believed only once the server confirms it, so the model can lag the server but
 * never run ahead of it. Within one Sync group a change still unanswered is taken to succeed:
 * if it fails, the server skips the rest of the group, so nothing judged by it runs. A name
 * with a change still unanswered from an earlier group is `unsettled`: the server may hold
 * either text, so the relay waits for the answers before judging what uses the name.
 * https://www.postgresql.org/docs/current/protocol-flow.html#PROTOCOL-FLOW-EXT-QUERY
 */
export class SessionNames<J> {
  readonly statements = new NameTable<PreparedName>();
  readonly portals = new NameTable<PortalName<J>>();
  /** Counts Syncs and simple Queries: messages of one group stand or fall together. */
  #group = 0;

  get group(): number {
    return this.#group;
  }

  /** A Sync, or the end of a simple Query (whose failure does not skip what follows it). */
  endOfGroup(): void {
    this.#group++;
  }

  /** Prepared statements as SQL `EXECUTE` in this group would find them, for classification. */
  lookups(): TrackedLookups {
    return new TrackedLookups(this.statements, this.#group);
  }

  /** The transaction ended (ReadyForQuery, idle): its portals are gone, cursors WITH HOLD stay. */
  endOfTransaction(): void {
    this.portals.dropConfirmed((portal) => !portal.holdable);
  }
}

/** One namespace: what the server has confirmed, and changes sent but not yet answered, in order. */
export class NameTable<V> {
  readonly #confirmed = new Map<string, V>();
  readonly #pending: Array<Change<V>> = [];

  lookup(name: string, group: number): Lookup<V> {
    let value = this.#confirmed.get(name);
    for (const change of this.#pending) {
      if (change.name !== name && change.name !== ALL) continue;
      if (change.group !== group) return { state: "unsettled" };
      value = change.value;
    }
    return value === undefined ? { state: "absent" } : { state: "known", value };
  }

  /**
   * Parse, Bind, PREPARE, DECLARE. The unnamed statement and portal are dropped as soon as their
   * replacement starts, even if it then fails (PostgreSQL's postgres.c), hence `replacesAtOnce`.
   */
  set(name: string, value: V, group: number): Settle {
    return this.#change({ name, value, group }, name === "");
  }

  /** Close, DEALLOCATE, CLOSE; `ALL` for DEALLOCATE ALL, CLOSE ALL and DISCARD ALL. */
  drop(name: string | typeof ALL, group: number): Settle {
    return this.#change({ name, value: undefined, group }, false);
  }

  dropConfirmed(where: (value: V) => boolean): void {
    for (const [name, value] of this.#confirmed) if (where(value)) this.#confirmed.delete(name);
  }

  #change(change: Change<V>, replacesAtOnce: boolean): Settle {
    this.#pending.push(change);
    let settled = false;
    return (ok) => {
      if (settled) return;
      settled = true;
      this.#pending.splice(this.#pending.indexOf(change), 1);
      if (!ok && !replacesAtOnce) return;
      const value = ok ? change.value : undefined;
      if (change.name === ALL) this.#confirmed.clear();
      else if (value === undefined) this.#confirmed.delete(change.name);
      else this.#confirmed.set(change.name, value);
    };
  }
}

/** `DEALLOCATE ALL`, `CLOSE ALL`, `DISCARD ALL`: a change to every name (a symbol: `"*"` is a valid name). */
export const ALL = Symbol("every name");

interface Change<V> {
  name: string | typeof ALL;
  value: V | undefined;
  group: number;
}

/**
 * The prepared statements a classification may look up, remembering what it found: an unsettled
 * name means the text must wait, and what each name resolved to is what the statement runs.
 */
export class TrackedLookups implements PreparedLookup {
  unsettled = false;
  readonly found = new Map<string, PreparedName>();

  constructor(
    private readonly statements: NameTable<PreparedName>,
    private readonly group: number,
  ) {}

  get(name: string, path?: PathValue): StatementInfo | undefined {
    const lookup = this.statements.lookup(name, this.group);
    if (lookup.state === "unsettled") this.unsettled = true;
    if (lookup.state !== "known") return undefined;
    this.found.set(name, lookup.value);
    // PostgreSQL analyses a prepared statement again when the search_path changed since it was prepared.
    const { preparedOn } = lookup.value.info;
    if (path !== undefined && preparedOn !== undefined && preparedOn !== pathKey(path)) return preparedOnAnotherPath(name);
    return lookup.value.info;
  }
}
