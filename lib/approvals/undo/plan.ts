import { scanSync } from "libpg-query";
import { parseSql } from "../../sql/parser";
import type { UndoKind } from "./types";

/**
 * Which statements can be undone exactly, and the queries that capture what they change. The
 * capture runs in the approved statement's own transaction (proxy/row-limit.ts), before and after
 * it:
 * - UPDATE, DELETE: the rows its WHERE selects, locked (`FOR UPDATE`) before it runs, so no one
 *   else changes them in between; the statement's own WHERE runs on exactly those rows;
 * - UPDATE, INSERT: after it, the rows this transaction wrote (`xmin` is the transaction's id:
 *   Airlock's own BEGIN, so no other statement of it wrote any).
 * The capture is kept only if the counts agree with the command tag and the keys before and after
 * are the same rows (exact.ts); otherwise the request says there is no undo, and why.
 */
export interface UndoPlan {
  kind: UndoKind;
  /** The table as the statement names it, with its alias: `"public"."accounts" AS "a"`. */
  from: string;
  /** How its columns are qualified in the WHERE: the alias, or the table's name. */
  ref: string;
  /** The text of the statement's WHERE condition (UPDATE, DELETE); undefined: every row. */
  where?: string;
  /** The names of the functions the WHERE calls (the capture evaluates it again: none may be volatile). */
  whereFunctions?: string[];
}

export type UndoPlanResult = UndoPlan | { unavailable: string };

const KINDS: Record<string, UndoKind> = { InsertStmt: "insert", UpdateStmt: "update", DeleteStmt: "delete" };

interface RangeVar {
  schemaname?: string;
  relname: string;
  inh?: boolean;
  alias?: { aliasname: string };
}

interface DmlNode {
  relation: RangeVar;
  withClause?: unknown;
  fromClause?: unknown[];
  usingClause?: unknown[];
  whereClause?: Record<string, unknown>;
  onConflictClause?: { action?: string };
}

/**
 * The plan for a statement's undo, or why it has none. Text with $n parameters is captured only
 * when `bound` (the extended protocol: the capture binds the same values, proxy/undo/execute-undo.ts);
 * a simple Query's $n is not a parameter PostgreSQL would bind (see docs/policy.md).
 */
export function undoPlan(text: string, { bound = false }: { bound?: boolean } = {}): UndoPlanResult {
  let stmts;
  try {
    stmts = parseSql(text).stmts ?? [];
  } catch {
    return { unavailable: "Airlock could not parse the statement" };
  }
  if (stmts.length !== 1) return { unavailable: "the text holds several statements" };
  const node = (stmts[0].stmt ?? {}) as Record<string, DmlNode | undefined>;
  const type = Object.keys(KINDS).find((k) => node[k] !== undefined);
  if (!type) return { unavailable: "only a single INSERT, UPDATE or DELETE can be undone" };
  const stmt = node[type]!;
  const kind = KINDS[type];
  if (stmt.withClause) return { unavailable: "a statement with a WITH clause may change rows its capture cannot see" };
  if (stmt.fromClause?.length || stmt.usingClause?.length) return { unavailable: `${kind.toUpperCase()} … ${kind === "delete" ? "USING" : "FROM"} joins other tables: the rows it changes cannot be determined with certainty` };
  if (stmt.onConflictClause?.action === "ONCONFLICT_UPDATE") return { unavailable: "INSERT … ON CONFLICT DO UPDATE changes existing rows its capture cannot tell apart" };
  if (stmt.whereClause && "CurrentOfExpr" in stmt.whereClause) return { unavailable: "WHERE CURRENT OF a cursor names no rows Airlock can capture" };
  const tokens = scanSync(text).tokens;
  if (!bound && tokens.some((t) => t.tokenName === "PARAM")) return { unavailable: "statements with bound parameters ($1…) are not captured for undo" };
  const rel = stmt.relation;
  const table = `${rel.schemaname ? `${ident(rel.schemaname)}.` : ""}${ident(rel.relname)}`;
  const alias = rel.alias?.aliasname;
  const from = `${rel.inh === false ? "ONLY " : ""}${table}${alias ? ` AS ${ident(alias)}` : ""}`;
  const ref = ident(alias ?? rel.relname);
  if (kind === "insert") return { kind, from, ref };
  return { kind, from, ref, where: stmt.whereClause ? whereText(text, tokens) : undefined, whereFunctions: functionNames(stmt.whereClause) };
}

/** Every function a parse tree calls, by its unqualified name (an overload or another schema's of the same name counts too). */
function functionNames(node: unknown, names: string[] = []): string[] {
  if (Array.isArray(node)) for (const item of node) functionNames(item, names);
  else if (node && typeof node === "object") {
    for (const [key, value] of Object.entries(node)) {
      if (key === "FuncCall") {
        const parts = ((value as { funcname?: Array<{ String?: { sval?: string } }> }).funcname ?? []).map((p) => p.String?.sval ?? "");
        names.push(parts[parts.length - 1] ?? "");
      }
      functionNames(value, names);
    }
  }
  return names;
}

/** The WHERE condition's text: from the statement's own WHERE keyword (outside parentheses) to RETURNING or the end. */
function whereText(text: string, tokens: ReturnType<typeof scanSync>["tokens"]): string {
  const bytes = Buffer.from(text, "utf8");
  let depth = 0;
  let start: number | undefined;
  let end = bytes.length;
  for (const t of tokens) {
    if (t.text === "(" || t.text === "[") depth++;
    else if (t.text === ")" || t.text === "]") depth--;
    else if (depth === 0 && start === undefined && t.text.toUpperCase() === "WHERE") start = t.end;
    else if (depth === 0 && start !== undefined && t.text.toUpperCase() === "RETURNING") {
      end = t.start;
      break;
    }
  }
  if (start === undefined) throw new Error("the parse tree has a WHERE the scanner did not find");
  return bytes.subarray(start, end).toString("utf8").trim().replace(/;\s*$/, "");
}

/** A name as SQL: always quoted, so case and odd characters survive. */
export function ident(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** The table's name as the statement writes it (without ONLY or its alias). */
export function tableName(plan: UndoPlan): string {
  return plan.from.replace(/^ONLY /, "").replace(/ AS .*$/, "");
}

/** The capture's queries, one text column each, run inside the statement's transaction. */
export const captureSql = {
  /** The table behind the statement's name (the session's search_path), its primary key and the columns a restore writes. */
  target(plan: UndoPlan): string {
    const table = tableName(plan);
    return `SELECT jsonb_build_object(
  'table', format('%I.%I', n.nspname, c.relname), 'name', n.nspname || '.' || c.relname,
  'plain', c.relkind = 'r' AND NOT c.relhassubclass,
  'elsewhere', CASE WHEN c.relhasrules THEN 'table has rules (a write to it may change other rows)'
    WHEN EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = c.oid AND NOT t.tgisinternal AND t.tgenabled <> 'D') THEN 'table has triggers (they may change rows a revert would not restore)'
    ${plan.kind === "insert" ? "" : "WHEN EXISTS (SELECT 1 FROM pg_constraint f WHERE f.confrelid = c.oid AND f.contype = 'f' AND (f.confdeltype IN ('c', 'n', 'd') OR f.confupdtype IN ('c', 'n', 'd'))) THEN 'a foreign key cascades from the table (rows of other tables change with it)'"}
    END,
  'volatile', EXISTS (SELECT 1 FROM pg_proc p WHERE p.proname = ANY (ARRAY[${(plan.whereFunctions ?? []).map((f) => `'${f.replaceAll("'", "''")}'`).join(", ")}]::text[]) AND p.provolatile = 'v'),
  'key', coalesce((SELECT jsonb_agg(a.attname::text ORDER BY array_position(i.indkey::int2[], a.attnum)) FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey) WHERE i.indrelid = c.oid AND i.indisprimary), '[]'),
  'columns', (SELECT jsonb_agg(a.attname::text ORDER BY a.attnum) FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '')
)::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = '${table.replaceAll("'", "''")}'::regclass`;
  },
  /** UPDATE, DELETE: the rows it will change, locked until the transaction ends. */
  before(plan: UndoPlan): string {
    return `SELECT to_jsonb(${plan.ref}.*)::text FROM ${plan.from}${plan.where === undefined ? "" : ` WHERE (${plan.where})`} FOR UPDATE OF ${plan.ref}`;
  },
  /** UPDATE, INSERT: the rows this transaction wrote. */
  after(plan: UndoPlan): string {
    return `SELECT to_jsonb(${plan.ref}.*)::text FROM ${plan.from} WHERE ${plan.ref}.xmin = pg_current_xact_id()::xid`;
  },
};
