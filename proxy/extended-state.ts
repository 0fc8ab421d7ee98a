/**
 * The agent's prepared statements and portals as the server will have them when it reaches each
 * message, so that an Execute is judged by the SQL its portal was really bound to. Changes are
 * confirmed by the server's answers (ParseComplete, BindComplete, CloseComplete) or dropped with
 * an error. While an earlier Sync group is still unanswered, the server may hold either the old or
 * the new statement under a name: then every candidate is returned, and the caller decides by the
 * strictest. https://www.postgresql.org/docs/current/protocol-flow.html#PROTOCOL-FLOW-EXT-QUERY
 */
export class ExtendedState<T> {
  readonly #statements = new Map<string, Versions<T>>();
  readonly #portals = new Map<string, Versions<Bound<T>>>();
  /** Counts Syncs: messages after the same Sync stand or fall together. */
  #group = 0;

  /** Parse: returns what to call when the server answers (true: ParseComplete). */
  parse(name: string, value: T): (ok: boolean) => void {
    return this.#change(this.#statements, name, value);
  }

  /** What a prepared statement's name may stand for when the server reaches the next message. */
  statement(name: string): T[] {
    return this.#candidates(this.#statements, name);
  }

  /** Bind: the portal runs one of the statement's candidates. */
  bind(portal: string, candidates: T[], params: Array<string | null>): (ok: boolean) => void {
    return this.#change(this.#portals, portal, { candidates, params });
  }

  /** Close: takes effect when the server confirms it. */
  close(kind: "statement" | "portal", name: string): (ok: boolean) => void {
    const versions = (kind === "statement" ? this.#statements : this.#portals).get(name);
    return (ok) => {
      if (ok && versions) versions.confirmed = undefined;
    };
  }

  sync(): void {
    this.#group++;
  }

  /** What an Execute of this portal may run: one candidate in the usual case, none if unknown. */
  portal(name: string): { candidates: T[]; params: Array<string | null> } {
    const bound = this.#candidates(this.#portals, name);
    return { candidates: bound.flatMap((b) => b.candidates), params: bound.at(-1)?.params ?? [] };
  }

  /** Portals the server has confirmed die with their transaction. */
  endOfTransaction(): void {
    for (const versions of this.#portals.values()) versions.confirmed = undefined;
  }

  #change<V>(map: Map<string, Versions<V>>, name: string, value: V): (ok: boolean) => void {
    let versions = map.get(name);
    if (!versions) map.set(name, (versions = { pending: [] }));
    const entry = { value, group: this.#group };
    versions.pending.push(entry);
    const v = versions;
    return (ok) => {
      v.pending.splice(v.pending.indexOf(entry), 1);
      // The unnamed statement or portal is dropped when its replacement starts, even if that fails.
      if (ok || name === "") v.confirmed = ok ? value : undefined;
    };
  }

  #candidates<V>(map: Map<string, Versions<V>>, name: string): V[] {
    const versions = map.get(name);
    if (!versions) return [];
    const current = versions.pending.filter((p) => p.group === this.#group);
    // A change earlier in this Sync group: if it failed, this message is skipped anyway.
    if (current.length > 0) return [current.at(-1)!.value];
    return [...(versions.confirmed === undefined ? [] : [versions.confirmed]), ...versions.pending.map((p) => p.value)];
  }
}

interface Versions<V> {
  confirmed?: V;
  pending: Array<{ value: V; group: number }>;
}

interface Bound<T> {
  candidates: T[];
  params: Array<string | null>;
}
