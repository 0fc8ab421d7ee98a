import { parseSql } from "../../sql/parser";
import { unwrap } from "../../sql/tree";
import type { Catalog, OutputLineage } from "../../sql/types";
import { statementRefusal, tablesRefusal } from "./dry-run-safety";
import { onHeldPath, quoteIdent, targetOf, WRITE_NODES, type PreviewStatement } from "./statements";
import type { DryRun, PreviewResult, PreviewSession, SampleRow } from "./types";

/** Changed rows shown as a sample. */
export const SAMPLE_ROWS = 5;
/** A sample's value is cut to this many characters. */
export const SAMPLE_VALUE_CHARS = 120;
/** The dry run waits at most this long for a lock (an agent's open transaction may hold the rows): it never queues behind one for long. */
export const DRY_RUN_LOCK_TIMEOUT_MS = 1_000;

export type DryRunOutcome = DryRun | { skipped: string } | { error: string };

export interface DryRunContext {
  session: PreviewSession;
  catalog: Catalog;
  /** statement_timeout of each statement of the dry run. */
  timeoutMs: number;
  /** The sample's values as the agent would read them (lib/masking): rows of one table's columns. */
  mask(fields: PreviewResult["fields"], rows: Array<Array<string | null>>, table: string, output?: OutputLineage): SampleRows;
}

/** Sample rows as approvers may see them; `withheld` says what of them is not shown, and why. */
export interface SampleRows {
  rows: Array<Array<string | null>>;
  withheld?: string;
}

/**
 * The exact rows each statement changes: the request's statements run in order in one transaction
 * on Airlock's own connection, each under a short statement_timeout, and the transaction is always
 * rolled back. Only where that is safe (dry-run-safety.ts); otherwise each says why not. A sample
 * of the changed rows comes from a RETURNING added to the statement (before → after for UPDATE:
 * the rows as they were are read by primary key after rolling back to a savepoint).
 */
export async function dryRun(ctx: DryRunContext, statements: readonly PreviewStatement[]): Promise<DryRunOutcome[]> {
  const skip = (why: string) => statements.map((): DryRunOutcome => ({ skipped: why }));
  const other = statements.find((s) => !WRITE_NODES.has(s.node));
  if (other) return skip(`the request also runs ${other.node.replace(/Stmt$/, "").toUpperCase()} (${other.text.slice(0, 60)}), which is not dry-run`);
  for (const statement of statements) {
    const refused = statementRefusal(statement, ctx.catalog);
    if (refused) return skip(`not safe to dry-run: ${refused}`);
  }
  const { session } = ctx;
  await session.query("BEGIN ISOLATION LEVEL READ COMMITTED READ WRITE");
  try {
    await session.query(`SET LOCAL statement_timeout = ${Math.round(ctx.timeoutMs)}`);
    await session.query(`SET LOCAL lock_timeout = ${Math.min(DRY_RUN_LOCK_TIMEOUT_MS, Math.round(ctx.timeoutMs))}`);
    // One held statement's (its text may hold several): the path it was judged on.
    await onHeldPath(session, statements[0]);
    const refused = await tablesRefusal(session, statements, ctx.catalog);
    if (refused) return skip(`not safe to dry-run: ${refused}`);
    const out: DryRunOutcome[] = [];
    for (const [i, statement] of statements.entries()) out.push(await runOne(ctx, statement, i < statements.length - 1));
    return out;
  } catch (err) {
    const error = `the dry run failed: ${describe(err, ctx.timeoutMs)}`;
    return statements.map((): DryRunOutcome => ({ error }));
  } finally {
    // Always: nothing of the dry run may stay.
    await session.query("ROLLBACK").catch(() => undefined);
  }
}

async function runOne(ctx: DryRunContext, statement: PreviewStatement, more: boolean): Promise<DryRun> {
  const { session } = ctx;
  const target = targetOf(statement.body);
  const sampled = sampleText(statement, target?.ref, session.serverVersion);
  await session.query("SAVEPOINT airlock_dry_run");
  const result = await session.query(sampled.text, statement.params, SAMPLE_ROWS, statement.formats);
  const rows = rowsFromTag(result.tag);
  const table = statement.info.writes[0] ?? target?.name ?? "";
  const columns = result.fields.map((f) => f.name);
  // The statement's own RETURNING is masked as the agent would read it (its lineage); the added one, as the table's columns.
  const shown = ctx.mask(result.fields, result.rows, table, sampled.own ? statement.info.output : undefined);
  const changed = shown.rows.map(cut);
  const note = (why?: string) => {
    const text = [why ?? sampled.note, shown.withheld].filter(Boolean).join("; ");
    return text ? { sampleNote: text } : {};
  };
  if (!sampled.returning || changed.length === 0) return { rows, sample: [], columns, ...note() };
  if (statement.node === "DeleteStmt") return { rows, columns, sample: changed.map((before) => ({ before })), ...note() };
  if (statement.node !== "UpdateStmt" || sampled.own || !target) return { rows, columns, sample: changed.map((after) => ({ after })), ...note() };

  // UPDATE: the same rows as they were, by primary key, after undoing the statement to its savepoint.
  const key = await primaryKey(session, table);
  const set = ((statement.body.targetList as Array<{ ResTarget?: { name?: string } }>) ?? []).map((t) => t.ResTarget?.name);
  const why = key.length === 0 || key.some((k) => !columns.includes(k)) ? `${table} has no primary key` : key.some((k) => set.includes(k)) ? "it changes the primary key" : undefined;
  if (why) {
    if (more) await session.query("RELEASE SAVEPOINT airlock_dry_run");
    return { rows, columns, sample: changed.map((after) => ({ after })), ...note(`${why}: only the new values are shown`) };
  }
  const at = key.map((k) => columns.indexOf(k));
  const raw = result.rows;
  await session.query("ROLLBACK TO SAVEPOINT airlock_dry_run");
  const tuples = raw.map((_, r) => `(${at.map((_, c) => `$${r * at.length + c + 1}`).join(", ")})`).join(", ");
  const keyList = key.map((k) => `airlock_t.${quoteIdent(k)}`).join(", ");
  const before = await session.query(`SELECT airlock_t.* FROM ${qualified(table)} AS airlock_t WHERE (${keyList}) IN (${tuples})`, raw.flatMap((row) => at.map((i) => row[i])), SAMPLE_ROWS);
  const byKey = new Map(before.rows.map((row) => [JSON.stringify(at.map((c) => row[c])), ctx.mask(before.fields, [row], table).rows.map(cut)[0]]));
  // Later statements of the request see this one's changes, as they would when it runs.
  if (more) await session.query(statement.text, statement.params, 0, statement.formats);
  return { rows, columns, sample: raw.map((row, i) => ({ before: byKey.get(JSON.stringify(at.map((c) => row[c]))), after: changed[i] })) satisfies SampleRow[], ...note() };
}

/**
 * The statement with a RETURNING of the written table's rows added at its end, when it has none;
 * re-parsed to be sure it is still the one statement it was. MERGE returns rows from PostgreSQL 17.
 */
function sampleText(statement: PreviewStatement, ref: string | undefined, serverVersion: number): { text: string; returning: boolean; own?: boolean; note?: string } {
  if (statement.body.returningClause || statement.body.returningList) return { text: statement.text, returning: true, own: true, note: "the rows its own RETURNING names" };
  if (statement.node === "MergeStmt" && serverVersion < 170_000) return { text: statement.text, returning: false, note: "MERGE returns no rows before PostgreSQL 17: count only" };
  if (!ref) return { text: statement.text, returning: false, note: "its table could not be named: count only" };
  const text = `${statement.text}\nRETURNING ${ref}.*`;
  try {
    const stmts = parseSql(text).stmts ?? [];
    if (stmts.length === 1 && unwrap(stmts[0].stmt)[0] === statement.node) return { text, returning: true };
  } catch {
    // fall through: counted without a sample
  }
  return { text: statement.text, returning: false, note: "a sample could not be added to it: count only" };
}

async function primaryKey(session: PreviewSession, table: string): Promise<string[]> {
  const result = await session.query(
    `select a.attname from pg_catalog.pg_index i join pg_catalog.pg_attribute a on a.attrelid = i.indrelid and a.attnum = any(i.indkey)
     where i.indrelid = $1::regclass and i.indisprimary order by array_position(i.indkey::int2[], a.attnum)`,
    [qualified(table)],
  );
  return result.rows.map(([name]) => name!);
}

function qualified(table: string): string {
  return table.split(".").map(quoteIdent).join(".");
}

function rowsFromTag(tag: string): number {
  const last = Number(tag.slice(tag.lastIndexOf(" ") + 1));
  return Number.isInteger(last) ? last : 0;
}

function cut(row: Array<string | null>): Array<string | null> {
  return row.map((v) => (v !== null && v.length > SAMPLE_VALUE_CHARS ? `${v.slice(0, SAMPLE_VALUE_CHARS)}…` : v));
}

function describe(err: unknown, timeoutMs: number): string {
  const message = err instanceof Error ? err.message : String(err);
  const code = (err as { code?: string }).code;
  if (code === "57014") return `it ran longer than ${timeoutMs} ms (statement_timeout): no exact count`;
  if (code === "55P03") return "a row or table it changes is locked by another transaction (perhaps the agent's own): no exact count";
  return message;
}
