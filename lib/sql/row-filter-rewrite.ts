/**
 * Rewrites one statement so every row-filtered table in it shows only its filtered rows, or says
 * why it cannot. Reads: the table's name (with ONLY, `*`, or `TABLE t`) is replaced by
 * `(SELECT * FROM t AS airlock_rows WHERE filter) AS t`, keeping the statement's own alias so
 * every column reference still resolves. UPDATE and DELETE: the filter joins their WHERE. COPY t
 * TO: a query. Everything else that reaches a filtered table (an INSERT into it, MERGE, COPY
 * FROM, a view over it, WHERE CURRENT OF, an UPDATE of a filter column) is refused.
 *
 * libpg-query has no deparser, so the edits are made in the text at the parser's own locations and
 * tokens; the result is then parsed again and checked (row-filter-check.ts): a rewrite that does
 * not check out is refused, never run.
 */
import { scanSync, type ScanToken } from "libpg-query";
import { checkRowFilters } from "./row-filter-check";
import { parseSql } from "./parser";
import { quoteIdent } from "./row-filter";
import { FENCE, INNER_ALIAS, tableOf, visitFields, visitTables, type BoundRowFilter, type RowFilters, type TableVisitor } from "./row-filter-tables";

export type { BoundRowFilter, RowFilters };
import { relationName, type RelationRef } from "./collector";
import { unwrap, type Obj } from "./tree";
import type { Catalog } from "./types";


/** `tables`: the filtered tables the statement was found to reach (each filtered or refused). */
export type RewriteResult = { ok: true; text: string; changed: boolean; tables: ReadonlySet<string> } | { ok: false; reason: string };


/** Statements whose reads are rewritten; any other statement touching a filtered table is refused. */
const REWRITTEN = new Set(["SelectStmt", "InsertStmt", "UpdateStmt", "DeleteStmt", "CopyStmt", "DeclareCursorStmt", "ExplainStmt"]);

class Refusal extends Error {}

interface Edit {
  start: number;
  end: number;
  text: string;
}

export function rewriteRowFilters(text: string, filters: RowFilters, catalog?: Catalog): RewriteResult {
  try {
    const stmts = parseSql(text).stmts ?? [];
    if (stmts.length !== 1) return { ok: false, reason: "one statement at a time can be row-filtered" };
    const bytes = Buffer.from(text, "utf8");
    // Comments are not tokens of the statement: a name or a WHERE is found across them.
    const tokens = scanSync(text).tokens.filter((t) => !t.tokenName.endsWith("_COMMENT"));
    const edits: Edit[] = [];
    const rewriter = new Rewriter(filters, catalog, tokens, bytes, edits);
    rewriter.rewrite(stmts[0].stmt);
    const tables = rewriter.tables;
    if (edits.length === 0) return { ok: true, text, changed: false, tables };
    edits.sort((a, b) => b.start - a.start || b.end - a.end);
    let out = bytes;
    for (const e of edits) out = Buffer.concat([out.subarray(0, e.start), Buffer.from(e.text, "utf8"), out.subarray(e.end)]);
    const rewritten = out.toString("utf8");
    const problem = checkRowFilters(rewritten, filters);
    if (problem) return { ok: false, reason: `Airlock could not rewrite it with certainty (${problem})` };
    return { ok: true, text: rewritten, changed: true, tables };
  } catch (err) {
    if (err instanceof Refusal) return { ok: false, reason: err.message };
    return { ok: false, reason: `Airlock could not rewrite it (${err instanceof Error ? err.message : String(err)})` };
  }
}

class Rewriter implements TableVisitor {
  readonly tables = new Set<string>();

  constructor(
    private readonly filters: RowFilters,
    private readonly catalog: Catalog | undefined,
    private readonly tokens: ScanToken[],
    private readonly bytes: Buffer,
    private readonly edits: Edit[],
  ) {}

  rewrite(stmt: unknown): void {
    let [type, body] = unwrap(stmt);
    if (type === "ExplainStmt") {
      // ANALYZE counts the rows the filter removes; plain EXPLAIN estimates from the whole table's statistics.
      this.rewrite(body.query);
      if (this.tables.size > 0) throw new Refusal(`EXPLAIN of a statement on ${[...this.tables].join(", ")} is refused: its row counts and estimates tell how many rows the row filter hides`);
      return;
    }
    while (type === "DeclareCursorStmt") [type, body] = unwrap(body.query);
    if (!REWRITTEN.has(type)) {
      // Not a statement Airlock rewrites: it may run only if it reaches no filtered table at all.
      visitTables({ read: (ref, scope) => this.refuseFiltered(tableOf(ref, scope), type), other: (ref) => this.refuseFiltered(relationName(ref as RelationRef), type) }, body, undefined);
      return;
    }
    visitTables(this, stmt, undefined);
  }

  read(ref: Obj, scope: Parameters<TableVisitor["read"]>[1]): void {
    const table = tableOf(ref, scope);
    if (!table) return;
    this.refuseViewOverFilter(table);
    const filter = this.filters.get(table);
    if (!filter) return;
    this.tables.add(table);
    const r = ref as RelationRef & { inh?: boolean; alias?: Obj; location?: number };
    let [first, last] = this.nameTokens(r);
    let only = false;
    let prefix = "";
    const before = this.tokens[first - 1];
    if (!r.inh) {
      // ONLY t, or ONLY (t): the subquery reads ONLY t.
      if (before?.text === "(" && isKeyword(this.tokens[first - 2], "only") && this.tokens[last + 1]?.text === ")") {
        first -= 2;
        last += 1;
      } else if (isKeyword(before, "only")) first -= 1;
      else throw new Refusal(`Airlock could not find how ${table} is read`);
      only = true;
    } else if (this.tokens[last + 1]?.text === "*") last += 1;
    // `TABLE t` becomes `SELECT * FROM (…) AS t`.
    if (isKeyword(this.tokens[first - 1], "table")) {
      first -= 1;
      prefix = "SELECT * FROM ";
    }
    const alias = r.alias ? "" : ` AS ${quoteIdent(r.relname ?? "")}`;
    const sub = `(SELECT * FROM ${only ? "ONLY " : ""}${this.qualified(table)} AS ${INNER_ALIAS} WHERE ${filter.render(INNER_ALIAS)} ${FENCE})`;
    this.edits.push({ start: this.tokens[first].start, end: this.tokens[last].end, text: `${prefix}${sub}${alias}` });
  }

  other(ref: Obj, where: string): void {
    this.refuseFiltered(relationName(ref as RelationRef), where === "TABLESAMPLE" ? "TABLESAMPLE" : "this statement");
  }

  /** INSERT/UPDATE/DELETE/MERGE/COPY: their target is judged here, everything else read as usual. */
  statement(type: string, body: Obj, scope: Parameters<TableVisitor["read"]>[1]): boolean {
    const rel = body.relation as (RelationRef & { alias?: { aliasname?: string }; location?: number }) | undefined;
    const target = rel ? relationName(rel) : undefined;
    const filter = target ? this.filters.get(target) : undefined;
    if (target) this.refuseViewOverFilter(target);
    if (filter) this.tables.add(target!);
    switch (type) {
      case "InsertStmt":
        if (filter) throw new Refusal(`INSERT into ${target} is refused: it has a row filter, and Airlock does not check new rows against it (ask for a rule without rows: for this)`);
        break;
      case "MergeStmt":
        if (filter) throw new Refusal(`MERGE into ${target} is refused: it has a row filter`);
        // Its sources are read like any FROM item; a filtered one cannot be proven rewritten in every MERGE form.
        visitTables({ read: (ref, s) => this.refuseFiltered(tableOf(ref, s), "MERGE"), other: () => undefined }, body.sourceRelation, scope);
        break;
      case "CopyStmt":
        if (filter) {
          if (body.is_from) throw new Refusal(`COPY into ${target} is refused: it has a row filter`);
          this.copyTo(rel!, target!, filter, body);
        }
        visitFields(this, body, scope, new Set(["relation", "withClause"]));
        return true;
      case "UpdateStmt":
      case "DeleteStmt":
        if (filter) this.filterTarget(type, rel!, target!, filter, body);
        break;
    }
    visitFields(this, body, scope, new Set(["relation", "withClause"]));
    return true;
  }

  /** UPDATE/DELETE change only rows the filter shows, and an UPDATE cannot move a row out of it. */
  private filterTarget(type: string, rel: RelationRef & { alias?: { aliasname?: string }; location?: number }, target: string, filter: BoundRowFilter, body: Obj): void {
    const verb = type === "UpdateStmt" ? "UPDATE" : "DELETE";
    if (unwrap(body.whereClause)[0] === "CurrentOfExpr") throw new Refusal(`${verb} … WHERE CURRENT OF on ${target} is refused: it has a row filter; use a WHERE on its key`);
    if (type === "UpdateStmt") {
      for (const t of (body.targetList as unknown[]) ?? []) {
        const name = String(unwrap(t)[1].name ?? "");
        if (filter.columns.has(name)) throw new Refusal(`UPDATE of column ${name} of ${target} is refused: the row filter on ${target} reads it, so the update could move rows out of the filter`);
      }
    }
    const condition = filter.render(rel.alias?.aliasname ?? rel.relname ?? "");
    const start = this.tokenAt(rel.location ?? -1);
    let where: number | undefined;
    let end: number | undefined;
    let depth = 0;
    // It ends at RETURNING, at `;`, at the end of the text, or (in a CTE) at the `)` closing it.
    for (let i = start; i < this.tokens.length; i++) {
      const t = this.tokens[i];
      if (depth === 0 && t.text === ")") {
        end = i;
        break;
      }
      if (t.text === "(" || t.text === "[") depth++;
      else if (t.text === ")" || t.text === "]") depth--;
      else if (depth === 0 && isKeyword(t, "where") && where === undefined) where = i;
      else if (depth === 0 && (isKeyword(t, "returning") || t.text === ";")) {
        end = i;
        break;
      }
    }
    // Before RETURNING or the CTE's `)`, or after the last token (not after a trailing comment, which would hide it).
    const endAt = end === undefined ? this.tokens[this.tokens.length - 1].end : this.tokens[end].start;
    if (body.whereClause) {
      if (where === undefined) throw new Refusal(`Airlock could not find the WHERE of this ${verb}`);
      // The agent's condition is evaluated only on rows the filter lets through (CASE keeps the order):
      // an error it raises, a division by zero, cannot tell anything about the other rows.
      this.edits.push({ start: this.tokens[where].end, end: this.tokens[where].end, text: ` ${condition} AND CASE WHEN ${condition} THEN (` });
      this.edits.push({ start: endAt, end: endAt, text: ") ELSE false END " });
    } else {
      this.edits.push({ start: endAt, end: endAt, text: ` WHERE ${condition} ` });
    }
  }

  /** COPY t [(cols)] TO … becomes COPY (SELECT cols FROM filtered t) TO …. */
  private copyTo(rel: RelationRef & { location?: number }, target: string, filter: BoundRowFilter, body: Obj): void {
    const [first, nameEnd] = this.nameTokens(rel);
    let last = nameEnd;
    const cols = ((body.attlist as unknown[]) ?? []).map((c) => String(unwrap(c)[1].sval ?? ""));
    if (cols.length > 0) {
      if (this.tokens[last + 1]?.text !== "(") throw new Refusal(`Airlock could not find the column list of COPY ${target}`);
      let i = last + 1;
      while (i < this.tokens.length && this.tokens[i].text !== ")") i++;
      last = i;
    }
    const list = cols.length > 0 ? cols.map(quoteIdent).join(", ") : "*";
    const sub = `(SELECT ${list} FROM (SELECT * FROM ${this.qualified(target)} AS ${INNER_ALIAS} WHERE ${filter.render(INNER_ALIAS)} ${FENCE}) AS ${quoteIdent(rel.relname ?? "")})`;
    this.edits.push({ start: this.tokens[first].start, end: this.tokens[last].end, text: sub });
  }

  /** The tokens of a relation's (possibly qualified) name, first and last index. */
  private nameTokens(r: RelationRef & { location?: number }): [number, number] {
    const first = this.tokenAt(r.location ?? -1);
    const parts = (r.catalogname ? 1 : 0) + (r.schemaname ? 1 : 0) + 1;
    const last = first + 2 * (parts - 1);
    if (last >= this.tokens.length) throw new Refusal("Airlock could not find a table's name in the statement");
    return [first, last];
  }

  private tokenAt(location: number): number {
    const i = this.tokens.findIndex((t) => t.start === location);
    if (i < 0) throw new Refusal("Airlock could not find a table's name in the statement");
    return i;
  }

  private qualified(table: string): string {
    const dot = table.indexOf(".");
    return `${quoteIdent(table.slice(0, dot))}.${quoteIdent(table.slice(dot + 1))}`;
  }

  private refuseFiltered(table: string | undefined, what: string): void {
    if (!table) return;
    this.refuseViewOverFilter(table);
    if (this.filters.has(table)) throw new Refusal(`${what === "TABLESAMPLE" ? "TABLESAMPLE of" : `${statementWord(what)} on`} ${table} is refused: it has a row filter, which Airlock cannot apply there`);
  }

  /** A view shows its tables' rows unfiltered: one over a filtered table is refused. */
  private refuseViewOverFilter(name: string): void {
    const bases = this.catalog?.views.get(name);
    const filtered = bases?.find((b) => this.filters.has(b));
    if (filtered) throw new Refusal(`view ${name} reads ${filtered}, which has a row filter: read ${filtered} itself`);
  }
}

function statementWord(type: string): string {
  return type.replace(/Stmt$/, "").replace(/([a-z])([A-Z])/g, "$1 $2").toUpperCase();
}

function isKeyword(token: ScanToken | undefined, word: string): boolean {
  return token !== undefined && token.keywordKind !== 0 && token.text.toLowerCase() === word;
}
