import type { SqlValue, StoreScope } from "./store";

/**
 * Rows per INSERT, largest first. On PostgreSQL a batch goes out as a few multi-row statements of
 * these sizes (1,000 rows: seven of 128, then 64, 32 and 8), so it costs about n / 128 round trips
 * rather than n, with only these eight texts per table. 128 rows of 16 columns stay far below the
 * parameter limit. SQLite has no round trip to save: one prepared single-row INSERT per row is
 * cheaper there (no statement journal, no thousands of parameters bound at once).
 */
const CHUNK_ROWS = { postgres: [128, 64, 32, 16, 8, 4, 2, 1], sqlite: [1] } as const;

/**
 * An inserter of many rows into `table`, in their order: each row gives `columns.length` values.
 * `suffix` ends each statement (`on conflict do nothing`).
 */
export function multiRowInsert(table: string, columns: readonly string[], suffix = ""): (scope: Pick<StoreScope, "dialect" | "sql">, rows: ReadonlyArray<readonly SqlValue[]>) => Promise<void> {
  const tuple = `(${columns.map(() => "?").join(", ")})`;
  const texts = new Map(CHUNK_ROWS.postgres.map((n) => [n, `insert into ${table} (${columns.join(", ")}) values ${Array(n).fill(tuple).join(", ")}${suffix ? ` ${suffix}` : ""}`]));
  return async ({ dialect, sql }, rows) => {
    let i = 0;
    for (const size of CHUNK_ROWS[dialect]) {
      const text = texts.get(size)!;
      for (; rows.length - i >= size; i += size) {
        if (size === 1) {
          await sql.run(text, rows[i]);
          continue;
        }
        const params: SqlValue[] = [];
        for (let r = i; r < i + size; r++) params.push(...rows[r]);
        await sql.run(text, params);
      }
    }
  };
}
