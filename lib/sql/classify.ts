/**
 * SQL text → what each statement does (kinds, tables, functions, reasons), judged against one
 * database's catalog. Pure and synchronous once the parser is loaded (loadSqlParser()); fails
 * closed: what the parser rejects or this code does not recognise is `unknown`.
 */
import { literalFreeKey } from "./cache-key";
import { Collector, sortKinds, strictest } from "./collector";
import { parseSql, SqlSyntaxError, statementSlicer, type ParseResult } from "./parser";
import { outputLineage } from "./lineage";
import { pathBeforeCatalog } from "./operator-path";
import { exactSetConfig } from "./path-statements";
import { catalogSearchPath, catalogShadowed, createdRelation, UnresolvedName, withSearchPath } from "./relation-names";
import { pathKey, SearchPath } from "./search-path";
import { classifyStatement } from "./statements";
import { isSchemaChange, relationChanges } from "./touched-relations";
import type { Catalog, Classification, Kind, PreparedLookup, StatementInfo } from "./types";

/**
 * Classifies every statement of `text`. `prepared` holds the session's earlier SQL-level
 * PREPAREs (name → the PREPARE's StatementInfo), for EXECUTE; PREPARE and DEALLOCATE earlier in
 * the same text count too.
 */
export function classify(text: string, catalog: Catalog, prepared?: PreparedLookup, path?: SearchPath): Classification {
  return classifyTracked(text, catalog, prepared, path).result;
}

/** The result, and which names were looked up in the caller's `prepared` map with what found. */
interface Tracked {
  result: Classification;
  lookups: Map<string, StatementInfo | undefined>;
}

function classifyTracked(text: string, catalog: Catalog, prepared: PreparedLookup | undefined, path: SearchPath | undefined): Tracked {
  const lookups = new Map<string, StatementInfo | undefined>();
  let parsed: ParseResult;
  try {
    parsed = parseSql(text);
  } catch (err) {
    if (!(err instanceof SqlSyntaxError)) throw err;
    return { result: rejected(text, `the parser rejected it: ${err.message}`, err.message), lookups };
  }

  // The session's search_path, run forward over the text: each statement as if those before it succeeded
  // (if one fails, PostgreSQL runs none after it).
  const state = path?.clone() ?? new SearchPath(catalogSearchPath(catalog));

  // PREPARE and DEALLOCATE earlier in this text shadow the caller's map (null: deallocated).
  const local = new Map<string, StatementInfo | null>();
  const localPaths = new Map<string, string>();
  let deallocatedAll = false;
  const lookupPrepared = (name: string): StatementInfo | undefined => {
    if (local.has(name)) return localPaths.get(name) === pathKey(state.current) ? (local.get(name) ?? undefined) : preparedOnAnotherPath(name);
    if (deallocatedAll) return undefined;
    const found = prepared?.get(name, state.current);
    lookups.set(name, found);
    return found;
  };

  const slice = statementSlicer(text);
  let statements: StatementInfo[];
  try {
    statements = (parsed.stmts ?? []).map((raw): StatementInfo => {
      const out = new Collector(catalog);
      const ddl = isSchemaChange(raw.stmt);
      const info = withSearchPath(catalog, state.current, () => {
        if (!exactSetConfig(out, raw.stmt)) classifyStatement({ out, lookupPrepared }, raw.stmt);
        const info = out.toInfo(slice(raw.stmt_location, raw.stmt_len));
        info.output = outputLineage(raw.stmt, catalog, lookupPrepared);
        // A schema change makes, alters or drops relations the session's catalog describes otherwise.
        if (!info.pathEffect && info.kinds.includes("ddl")) info.pathEffect = { kind: "relations", changes: relationChanges(raw.stmt, createdRelation) };
        return info;
      }, state.changed, ddl);
      const shadowed = catalogShadowed(catalog, state.current);
      if (shadowed && (!info.pathEffect || info.pathEffect.kind === "relations")) {
        info.kinds = sortKinds([...info.kinds, "call"]);
        info.reasons.push(shadowed);
      }
      // Row filters are rendered with operators and types by name: on such a path they may not be PostgreSQL's.
      if (pathBeforeCatalog(state.current)) info.pathBeforeCatalog = true;
      if (info.prepares !== undefined) {
        localPaths.set(info.prepares, pathKey(state.current));
        info.preparedOn = pathKey(state.current);
      }
      state.completed(info.pathEffect);
      if (info.prepares !== undefined) local.set(info.prepares, info);
      if (info.deallocates === "*") {
        local.clear();
        deallocatedAll = true;
      } else if (info.deallocates !== undefined) {
        local.set(info.deallocates, null);
      }
      return info;
    });
  } catch (err) {
    if (err instanceof UnresolvedName) return { result: rejected(text, err.message), lookups };
    // A tree nested deeper than the walk's stack (thousands of levels) is not understood.
    if (!(err instanceof RangeError)) throw err;
    return { result: rejected(text, "it is nested too deeply to classify"), lookups };
  }
  // Empty text (or only comments and semicolons) runs nothing: PostgreSQL answers EmptyQueryResponse.
  const kind: Kind = strictest(statements.flatMap((s) => s.kinds)) ?? "session";
  return { result: { statements, kind }, lookups };
}

/**
 * EXECUTE of a statement prepared while another search_path was in effect: PostgreSQL analyses it
 * again on the path of now, which Airlock's judgement of it did not see.
 */
export function preparedOnAnotherPath(name: string): StatementInfo {
  return { text: `EXECUTE ${name}`, kinds: ["unknown"], reads: [], writes: [], functions: [], reasons: [`prepared statement ${name} was prepared under another search_path; prepare it again`] };
}

/** Text that cannot be understood as a whole: one `unknown` statement. */
function rejected(text: string, reason: string, error = reason): Classification {
  const statement: StatementInfo = { text: text.trim(), kinds: ["unknown"], reads: [], writes: [], functions: [], reasons: [reason] };
  return { statements: [statement], kind: "unknown", error };
}

/** Texts longer than this are classified but not cached, so a few huge statements cannot fill memory. */
export const MAX_CACHED_TEXT_LENGTH = 64 * 1024;

/** An EXECUTE text keeps results for this many different prepared bodies (sessions differ). */
export const MAX_VARIANTS_PER_TEXT = 8;

export interface Classifier {
  /** The catalog it judges with. */
  readonly catalog: Catalog;
  /** `path`: the session's search_path as the text will find it (absent: the catalog's, outside any transaction). */
  classify(text: string, prepared?: PreparedLookup, path?: SearchPath): Classification;
  stats(): { size: number; hits: number; misses: number };
}

interface Variant {
  result: Classification;
  /** Each prepared name the result depended on, with the signature of what it resolved to. */
  depends: Array<[name: string, signature: string]>;
}

/** A result cached for another text with other numbers: the same, but naming this statement's own text. */
function withOwnText(result: Classification, text: string): Classification {
  const [statement] = result.statements;
  const own = text.trim().replace(/;$/, "").trimEnd();
  if (!statement || statement.text === own) return result;
  return { ...result, statements: [{ ...statement, text: own }] };
}

/**
 * A classifier for one catalog (a new catalog needs a new classifier), caching results by text
 * in an LRU of `maxEntries` texts. A text whose result does not depend on the session (no EXECUTE
 * of an earlier PREPARE) hits on text alone. One that does keeps, with each result, what every
 * name resolved to; a hit needs the caller's map to resolve them to the same bodies, so the key
 * is in effect the text plus the prepared bodies it executes. Results are frozen: callers share them.
 */
export function createClassifier(catalog: Catalog, maxEntries = 10_000): Classifier {
  if (!Number.isInteger(maxEntries) || maxEntries < 0) throw new Error(`maxEntries must be a whole number ≥ 0, got ${maxEntries}`);
  const cache = new Map<string, Variant[]>();
  let hits = 0;
  let misses = 0;
  return {
    catalog,
    classify(text, prepared, path) {
      const normalized = literalFreeKey(text);
      const key = path ? `${path.key()}\u0000${normalized ?? text}` : (normalized ?? text);
      const variants = cache.get(key);
      const hit = variants?.find((v) => v.depends.every(([name, signature]) => signatureOf(prepared?.get(name, path?.current)) === signature));
      if (variants && hit) {
        hits++;
        cache.delete(key); // re-insert: a Map iterates in insertion order, so this marks it recent
        cache.set(key, variants);
        return normalized === undefined ? hit.result : withOwnText(hit.result, text);
      }
      misses++;
      const { result, lookups } = classifyTracked(text, catalog, prepared, path);
      deepFreeze(result);
      if (text.length <= MAX_CACHED_TEXT_LENGTH && maxEntries > 0) {
        const variant: Variant = { result, depends: [...lookups].map(([name, found]) => [name, signatureOf(found)]) };
        cache.delete(key);
        cache.set(key, [variant, ...(variants ?? [])].slice(0, MAX_VARIANTS_PER_TEXT));
        while (cache.size > maxEntries) cache.delete(cache.keys().next().value as string);
      }
      return result;
    },
    stats: () => ({ size: cache.size, hits, misses }),
  };
}

/** What an EXECUTE takes from a prepared statement; equal signatures classify the same. */
function signatureOf(info: StatementInfo | undefined): string {
  return info ? JSON.stringify([info.kinds, info.reads, info.writes, info.functions, info.reasons, info.output]) : "";
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
