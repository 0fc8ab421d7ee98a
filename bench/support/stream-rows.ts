import pg from "pg";

export interface StreamedRows {
  rows: number;
  seconds: number;
  /** Every `sampleEvery`-th row, its values as the server's text. */
  samples: string[][];
}

/**
 * Every value as the text that came over the wire: the agent here only counts rows, so parsing
 * dates and numbers would be the client's cost, not the proxy's.
 */
const RAW_TEXT = { getTypeParser: () => (value: string) => value };

/**
 * Runs one query with node-postgres and reads its rows as they arrive, keeping only a sample:
 * with a `row` listener and no callback, pg passes each row on and does not gather the result.
 * The clock runs from sending the query to its ReadyForQuery, the connection already open.
 */
export async function streamRows(url: string, sql: string, sampleEvery: number): Promise<StreamedRows> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    let rows = 0;
    const samples: string[][] = [];
    const started = performance.now();
    await new Promise<void>((resolve, reject) => {
      // pg's Query takes rowMode, though @types/pg lists it only for client.query's own config.
      const config: pg.QueryArrayConfig = { text: sql, rowMode: "array", types: RAW_TEXT };
      const query = client.query(new pg.Query(config));
      query.on("row", (row: string[]) => {
        if (rows % sampleEvery === 0) samples.push(row);
        rows++;
      });
      query.on("end", () => resolve());
      query.on("error", reject);
    });
    return { rows, seconds: (performance.now() - started) / 1000, samples };
  } finally {
    await client.end();
  }
}
