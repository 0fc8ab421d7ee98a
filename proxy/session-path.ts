import { pathKey, SearchPath, splitPath, type PathEffect } from "../lib/sql/search-path";
import type { StatementInfo } from "../lib/sql/types";
import { forwardedParams } from "./upstream/upstream";
import { PgWireError, SqlState } from "./wire-error";

const UNTRACKED: PathEffect = { kind: "untracked" };
const CODE_RUN: StatementInfo = { text: "", kinds: ["call"], reads: [], writes: [], functions: [], reasons: [], pathEffect: UNTRACKED };

/**
 * A session's search_path as the server has it (lib/sql/search-path.ts), for the relay. It
 * believes a change only when the server confirms it: a statement's CommandComplete, an
 * ErrorResponse (which rolls back an implicit transaction or aborts a block), a ReadyForQuery
 * (which commits an implicit one). A statement is judged on the confirmed path plus the changes
 * sent before it in its own group (Sync or Query): if one of those fails, the server skips the
 * rest of the group. A change from an earlier group whose ReadyForQuery has not come leaves the
 * path unsettled: the statement waits for the server's answers, as for prepared names.
 */
export class SessionPath {
  readonly #confirmed: SearchPath;
  /** Changes sent, not yet answered, in order, with the group each belongs to; `atReady`: settled by the group's ReadyForQuery. */
  #pending: Array<{ effect: PathEffect; group: number; atReady?: true }> = [];
  /** Groups that sent a change and whose ReadyForQuery has not come yet. */
  readonly #changingGroups = new Set<number>();
  /** ReadyForQuery messages seen: the group the server is answering now. */
  #answering = 0;
  /** Cursors declared over a query that runs code Airlock does not see into: a FETCH of one runs it. */
  readonly #codeCursors = new Set<string>();

  constructor(reset: readonly string[], initial: readonly string[]) {
    this.#confirmed = new SearchPath(reset, initial);
  }

  /** The path as a statement sent now in `group` will find it; undefined while an earlier group's change is unanswered. */
  at(group: number): SearchPath | undefined {
    for (const g of this.#changingGroups) if (g < group) return undefined;
    if (this.#pending.length === 0) return this.#confirmed;
    const path = this.#confirmed.clone();
    for (const { effect } of this.#pending) path.completed(effect);
    return path;
  }

  /** The statement goes to the server; the returned settle is its answer (true: CommandComplete). */
  sent(info: StatementInfo, group: number): ((ok: boolean) => void) | undefined {
    if (info.declares && info.pathEffect?.kind === "untracked") this.#codeCursors.add(info.declares.name);
    const effect = info.fetches !== undefined && this.#codeCursors.has(info.fetches) ? UNTRACKED : info.pathEffect;
    if (!effect) return (ok) => ok && this.#confirmed.completed(undefined);
    const entry: { effect: PathEffect; group: number; atReady?: true } = { effect, group };
    this.#pending.push(entry);
    this.#changingGroups.add(group);
    let settled = false;
    return (ok) => {
      if (settled) return;
      settled = true;
      // Ended without a command tag and without an error (an Execute suspended at its row count): its code may have run.
      if (!ok && effect.kind === "untracked") {
        entry.atReady = true;
        return;
      }
      const at = this.#pending.indexOf(entry);
      if (at >= 0) this.#pending.splice(at, 1);
      if (ok) this.#confirmed.completed(effect);
    };
  }

  /** A protocol Execute: of a Bind's portal, its statement; of a cursor, the code its query may run. */
  executed(portal: string, info: StatementInfo | undefined, group: number): ((ok: boolean) => void) | undefined {
    if (info) return this.sent(info, group);
    return this.#codeCursors.has(portal) ? this.sent(CODE_RUN, group) : undefined;
  }

  /**
   * A fast-path call, answered without a command tag: code it may run (a user function) counts at
   * its group's ReadyForQuery, unless an error came first (which undid it, or aborted the block).
   */
  calledWithoutTag(info: StatementInfo, group: number): void {
    if (info.pathEffect?.kind !== "untracked") return;
    this.#pending.push({ effect: info.pathEffect, group, atReady: true });
    this.#changingGroups.add(group);
  }

  /** An ErrorResponse: what the group had not yet run never will. */
  failed(): void {
    this.#confirmed.failed();
    this.#pending = this.#pending.filter((p) => p.group !== this.#answering);
  }

  /** A ReadyForQuery: the group is answered. */
  ready(status: number): void {
    for (const p of this.#pending) if (p.atReady && p.group === this.#answering) this.#confirmed.completed(p.effect);
    this.#confirmed.ready(String.fromCharCode(status) as "I" | "T" | "E");
    this.#changingGroups.delete(this.#answering);
    this.#pending = this.#pending.filter((p) => p.group > this.#answering);
    this.#answering++;
  }
}

/** The path a statement prepared (Parse, PREPARE) was judged on: a Bind or EXECUTE on another path is judged again. */
export function preparedPathKey(path: SearchPath | undefined): string {
  // Judged while the path was unsettled: on no path the statement can meet later.
  return path ? pathKey(path.current) : "unsettled";
}

/**
 * The path a session starts with: its startup parameter or `-c search_path=` in options, else the
 * database's configured one. RESET returns to the startup value, except on the shared embedded
 * database, where startup settings are SET on the engine and RESET returns to its default.
 */
export function startupPath(params: ReadonlyMap<string, string>, configured: readonly string[], shared: boolean): SessionPath {
  const value = forwardedParams(params).search_path;
  if (value === undefined) return new SessionPath(configured, configured);
  const path = splitPath(value);
  if (!path) throw PgWireError.fatal(SqlState.InvalidParameterValue, `airlock: the startup parameter search_path is not a valid list of schema names: ${value}`);
  return new SessionPath(shared ? configured : path, path);
}
