import type { Sql, SqlValue } from "./store";

/**
 * Rows per INSERT, largest first. A batch goes out as a few multi-row statements of these sizes
 * (1,000 rows: seven of 128, then 64, 32 and 8), so it costs about n / 128 round trips on
 * PostgreSQL rather than n, while each table has only these eight texts for SQLite's cache of
 * prepared statements. 128 rows of 16 columns stay far below both dialects' parameter limits.
 */
const CHUNK_ROWS = [128, 64, 32, 16, 8, 4, 2, 1] as const;

/**
 * An inserter of many rows into `table`, in their order: each row gives `columns.length` values.
 * `suffix` ends each statement (`on conflict do nothing`).
 */
export function multiRowInsert(table: string, columns: readonly string[], suffix = ""): (sql: Sql, rows: ReadonlyArray<readonly SqlValue[]>) => Promise<void> {
  const tuple = `(${columns.map(() => "?").join(", ")})`;
  const texts = new Map(CHUNK_ROWS.map((n) => [n, `insert into ${table} (${columns.join(", ")}) values ${Array(n).fill(tuple).join(", ")}${suffix ? ` ${suffix}` : ""}`]));
  return async (sql, rows) => {
    let i = 0;
    for (const size of CHUNK_ROWS) {
      for (; rows.length - i >= size; i += size) {
        const params: SqlValue[] = [];
        for (let r = i; r < i + size; r++) params.push(...rows[r]);
        await sql.run(texts.get(size)!, params);
      }
    }
  };
}
