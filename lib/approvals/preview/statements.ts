import type { HeldStatement } from "../held-statements";
import { classify } from "../../sql/classify";
import { formatPath } from "../../sql/search-path";
import { heldSearchPath } from "../held-path";
import { parseSql, statementSlicer, SqlSyntaxError } from "../../sql/parser";
import { unwrap, type Obj } from "../../sql/tree";
import type { Catalog, StatementInfo } from "../../sql/types";
import type { PreviewSession } from "./types";

/** Statements whose rows a preview counts. */
export const WRITE_NODES = new Set(["UpdateStmt", "DeleteStmt", "InsertStmt", "MergeStmt"]);

/** One statement of a request as the preview sees it: its own text, its parameters, its parse tree and classification. */
export interface PreviewStatement {
  text: string;
  params: Array<string | null>;
  /** The parameters' format codes as the agent bound them (absent: all text; a binary one is the hex of its bytes). */
  formats?: readonly number[];
  /** The search_path the proxy judged it on (held-path.ts): the preview names the same tables. */
  path?: readonly string[];
  node: string;
  body: Obj;
  info: StatementInfo;
}

/**
 * The statements a request runs, one by one: a simple Query may hold several (never with
 * parameters), an extended-protocol one is one statement with its bound parameters. Prepared
 * bodies a SQL EXECUTE runs by name are left out: the EXECUTE itself is what is described.
 * Under row filters it is the rewritten text, the one that goes upstream once approved. Each is
 * classified on the search_path it was held on; one held where the proxy could not follow the
 * path has no preview (what its names reach is not known).
 */
export function previewStatements(held: ReadonlyArray<HeldStatement>, catalog: Catalog): PreviewStatement[] | { unavailable: string } {
  const out: PreviewStatement[] = [];
  for (const statement of held) {
    if (statement.prepared !== undefined) continue;
    const text = statement.runs ?? statement.text;
    if (statement.path === null) return { unavailable: "the search_path it was held on is not known, so neither are the tables it names" };
    const path = statement.path && { path: statement.path };
    let parsed;
    try {
      parsed = parseSql(text);
    } catch (err) {
      if (err instanceof SqlSyntaxError) return { unavailable: `the statement does not parse: ${err.message}` };
      throw err;
    }
    const stmts = parsed.stmts ?? [];
    const infos = classify(text, catalog, undefined, heldSearchPath(statement.path)).statements;
    const slice = statementSlicer(text);
    stmts.forEach((raw, i) => {
      const [node, body] = unwrap(raw.stmt);
      out.push({ text: slice(raw.stmt_location, raw.stmt_len), params: statement.params ?? [], ...(statement.formats ? { formats: statement.formats } : {}), ...path, node, body, info: infos[i] ?? { text: "", kinds: ["unknown"], reads: [], writes: [], functions: [], reasons: [] } });
    });
  }
  return out;
}

/** The statement's most telling kind, for people: the write it does, else the strictest. */
export function kindOf(statement: PreviewStatement): string {
  return statement.info.kinds.find((k) => k === "update" || k === "delete" || k === "insert" || k === "merge") ?? statement.info.kinds.at(-1) ?? "unknown";
}

/** Functions it calls that the database's catalog says are not built in (planning may run them). */
export function userFunctionsOf(statement: PreviewStatement, catalog: Catalog): string[] {
  return statement.info.functions.filter((f) => catalog.userFunctions.has(f.split(".").at(-1) ?? f) || catalog.userFunctions.has(f));
}

/** The written table as the statement names it: its relation's alias, or its (qualified) name, quoted for SQL. */
export function targetOf(body: Obj): { name: string; ref: string } | undefined {
  const relation = body.relation as { schemaname?: string; relname?: string; alias?: { aliasname?: string } } | undefined;
  if (!relation?.relname) return undefined;
  const name = relation.schemaname ? `${relation.schemaname}.${relation.relname}` : relation.relname;
  const ref = relation.alias?.aliasname ? quoteIdent(relation.alias.aliasname) : relation.schemaname ? `${quoteIdent(relation.schemaname)}.${quoteIdent(relation.relname)}` : quoteIdent(relation.relname);
  return { name, ref };
}

export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Whether the tree holds a node of this type anywhere (`SetToDefault`: a column set to its default). */
export function containsNode(tree: unknown, type: string): boolean {
  if (!tree || typeof tree !== "object") return false;
  if (Array.isArray(tree)) return tree.some((t) => containsNode(t, type));
  return Object.entries(tree).some(([key, value]) => key === type || containsNode(value, type));
}

/** In the preview's transaction, before the statement: the search_path it was held on (set_config's `true`: this transaction only). */
export async function onHeldPath(session: PreviewSession, statement: Pick<PreviewStatement, "path"> | undefined): Promise<void> {
  if (statement?.path) await session.query("SELECT pg_catalog.set_config('search_path', $1, true)", [formatPath(statement.path)]);
}
