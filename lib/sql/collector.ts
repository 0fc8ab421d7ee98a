/**
 * What one statement does, gathered while walking its parse tree: kinds, tables, functions and
 * the reasons behind every kind that is more than a plain read. Knows the catalog, so that a view
 * is expanded to its base relations and a function or operator is judged where it is met.
 */
import { judgeFunction, judgeOperator } from "./functions";
import { unqualifiedRelation } from "./relation-names";
import type { PathEffect } from "./search-path";
import { KINDS, type Catalog, type Kind, type StatementInfo } from "./types";

const KIND_ORDER = new Map<Kind, number>(KINDS.map((k, i) => [k, i]));

/** The parser's RangeVar (also met "bare", without its node wrapper, in typed fields). */
export interface RelationRef {
  catalogname?: string;
  schemaname?: string;
  relname?: string;
  /** "t" for a TEMP relation being created. */
  relpersistence?: string;
}

/** Schema-qualified name as PostgreSQL resolves it on the statement's search path (lib/sql/relation-names.ts). */
export function qualifiedName(schema: string | undefined, name: string): string {
  if (schema) return `${schema}.${name}`;
  return unqualifiedRelation(name);
}

export function relationName(ref: RelationRef): string {
  if (!ref.schemaname && ref.relpersistence === "t") return `pg_temp.${ref.relname ?? ""}`; // CREATE TEMP TABLE, SELECT … INTO TEMP
  return qualifiedName(ref.schemaname, ref.relname ?? "");
}

/** A list of RangeVar nodes (TRUNCATE, LOCK, GRANT ON) as qualified names. */
export function relationsOf(list: unknown[] | undefined): string[] {
  return (list ?? [])
    .map((n) => (n as { RangeVar?: RelationRef }).RangeVar)
    .filter((r): r is RelationRef => !!r)
    .map(relationName);
}

export class Collector {
  readonly kinds = new Set<Kind>();
  readonly reads = new Set<string>();
  readonly writes = new Set<string>();
  readonly functions = new Set<string>();
  readonly reasons = new Set<string>();
  prepares?: string;
  executes?: string;
  deallocates?: string;
  declares?: { name: string; holdable: boolean };
  fetches?: string;
  closes?: string;
  pathEffect?: PathEffect;
  /**
   * Code runs that Airlock does not see into (a user function, DO, CALL…), or a privilege change
   * (SET ROLE changes what `$user` means; set_config of the path in a form not followed): if it runs,
   * the search_path is not known after it.
   */
  runsUserCode = false;

  constructor(readonly catalog: Catalog) {}

  add(kind: Kind, reason?: string): void {
    this.kinds.add(kind);
    if (reason) this.reasons.add(reason);
    if (kind === "call" || kind === "unknown" || kind === "admin" || kind === "privilege") this.runsUserCode = true;
  }

  /** A relation read: a view also reads its base relations, recursively, and may call functions. */
  read(name: string): void {
    this.reads.add(name);
    this.expandView(name, this.reads, new Set());
  }

  /** What running a view's (or materialized view's) query reads, without the view itself. */
  readDefinition(name: string): void {
    this.expandView(name, this.reads, new Set());
  }

  /** A relation written: writing through a view writes its base relations. */
  write(name: string): void {
    this.writes.add(name);
    this.expandView(name, this.writes, new Set());
  }

  private expandView(name: string, into: Set<string>, seen: Set<string>): void {
    if (seen.has(name)) return;
    seen.add(name);
    if (this.catalog.viewsWithSideEffects.has(name)) {
      this.add("call", `uses view ${name}, whose definition calls a function that is not read-only`);
    }
    const bases = this.catalog.views.get(name);
    if (!bases) return;
    for (const base of bases) {
      into.add(base);
      this.expandView(base, into, seen);
    }
  }

  /** A function call, judged against the catalog. */
  /** A cast to, or a value of, a type with user code behind it (input function, domain CHECK, cast function). */
  useType(parts: readonly string[]): void {
    const type = parts.at(-1) ?? "";
    if (this.catalog.userTypes.has(type)) this.add("call", `uses type ${type}, which runs user-defined functions`);
  }

  callFunction(parts: readonly string[]): void {
    const verdict = judgeFunction(parts, this.catalog);
    const userCode = this.runsUserCode;
    this.functions.add(verdict.name);
    if (verdict.file) this.add("admin", verdict.reason);
    if (!verdict.read) this.add("call", verdict.reason);
    // A built-in that is not a read (nextval…) changes no setting; set_config is judged apart (path-statements.ts).
    const name = parts.at(-1) ?? "";
    const builtin = parts.length === 1 ? !this.catalog.userFunctions.has(name) : parts.length === 2 && parts[0] === "pg_catalog";
    if (builtin) this.runsUserCode = userCode;
  }

  useOperator(parts: readonly string[]): void {
    const verdict = judgeOperator(parts, this.catalog);
    if (!verdict.read) this.add("call", verdict.reason);
  }

  /** Folds another statement's findings in (a prepared body, an EXPLAIN ANALYZE target). */
  merge(info: Pick<StatementInfo, "kinds" | "reads" | "writes" | "functions" | "reasons" | "pathEffect">): void {
    for (const k of info.kinds) this.kinds.add(k);
    for (const r of info.reads) this.reads.add(r);
    for (const w of info.writes) this.writes.add(w);
    for (const f of info.functions) this.functions.add(f);
    for (const r of info.reasons) this.reasons.add(r);
    if (info.pathEffect?.kind === "untracked") this.runsUserCode = true;
  }

  toInfo(text: string): StatementInfo {
    const kinds = this.kinds.size === 0 ? (["unknown"] as Kind[]) : sortKinds(this.kinds);
    const reasons = this.kinds.size === 0 ? ["nothing in this statement was understood"] : [...this.reasons];
    const info: StatementInfo = { text, kinds, reads: [...this.reads].sort(), writes: [...this.writes].sort(), functions: [...this.functions].sort(), reasons };
    if (this.prepares !== undefined) info.prepares = this.prepares;
    if (this.executes !== undefined) info.executes = this.executes;
    if (this.deallocates !== undefined) info.deallocates = this.deallocates;
    if (this.declares !== undefined) info.declares = this.declares;
    if (this.fetches !== undefined) info.fetches = this.fetches;
    if (this.closes !== undefined) info.closes = this.closes;
    const pathEffect = this.runsUserCode ? { kind: "untracked" as const } : this.pathEffect;
    if (pathEffect) info.pathEffect = pathEffect;
    return info;
  }
}

export function sortKinds(kinds: Iterable<Kind>): Kind[] {
  return [...new Set(kinds)].sort((a, b) => KIND_ORDER.get(a)! - KIND_ORDER.get(b)!);
}

export function strictest(kinds: Iterable<Kind>): Kind | undefined {
  let best: Kind | undefined;
  for (const k of kinds) if (best === undefined || KIND_ORDER.get(k)! > KIND_ORDER.get(best)!) best = k;
  return best;
}
