/**
 * `rows:` on allow and review rules: table → filter expression. Each filter is compiled when the
 * policy loads (lib/sql/row-filter.ts), so a filter that is not a plain boolean expression over
 * the table's columns stops the policy from loading, with the line and the reason. The parser
 * loads asynchronously: the entry points await it before the policy (server.ts, the standalone
 * proxy, the CLI); a policy parsed before it is ready compiles each filter at first use instead,
 * where a bad one refuses every statement on its table.
 */
import { z } from "zod";
import { compileRowFilter, filteredTable, RowFilterError, type CompiledRowFilter } from "../sql/row-filter";

export const RowsSchema = z.record(z.string().min(1), z.string().min(1)).refine((rows) => Object.keys(rows).length > 0, { message: "name at least one table" });

/** The rule's filters, or problems by table (as the policy names it). */
export function rowFiltersOf(rows: Record<string, string> | undefined): { filters?: CompiledRowFilter[]; problems: Array<{ table: string; message: string }> } {
  if (!rows) return { problems: [] };
  const filters: CompiledRowFilter[] = [];
  const problems: Array<{ table: string; message: string }> = [];
  const seen = new Set<string>();
  for (const [table, source] of Object.entries(rows)) {
    try {
      const name = filteredTable(table);
      if (seen.has(name)) throw new RowFilterError(`${name} has a filter already`);
      seen.add(name);
      filters.push(compiled(table, source));
    } catch (err) {
      if (!(err instanceof RowFilterError)) throw err;
      problems.push({ table, message: `row filter: ${err.message}` });
    }
  }
  return { filters, problems };
}

function compiled(table: string, source: string): CompiledRowFilter {
  try {
    return compileRowFilter(table, source);
  } catch (err) {
    if (err instanceof RowFilterError) throw err;
    return new DeferredRowFilter(table, source);
  }
}

/** A filter compiled when first used (its problems then refuse the statement, never pass it). */
class DeferredRowFilter implements CompiledRowFilter {
  readonly table: string;
  #compiled: CompiledRowFilter | undefined;

  constructor(
    name: string,
    readonly source: string,
  ) {
    this.table = filteredTable(name);
  }

  #get(): CompiledRowFilter {
    this.#compiled ??= compileRowFilter(this.table, this.source);
    return this.#compiled;
  }

  get tokens() {
    return this.#get().tokens;
  }
  get columns() {
    return this.#get().columns;
  }
  get operators() {
    return this.#get().operators;
  }
  get types() {
    return this.#get().types;
  }
}
