import pg from "pg";
import { RawWireClient } from "../../test/support/raw-wire-client";

/**
 * Opens `count` agent connections through the proxy, each logged in (ReadyForQuery seen) and
 * then left idle, `concurrency` at a time. Bare sockets keep the bench process light; what is
 * measured is the proxy's side of each connection.
 */
export async function openIdleConnections(options: {
  port: number;
  user: string;
  token: string;
  database: string;
  count: number;
  concurrency: number;
}): Promise<RawWireClient[]> {
  const clients: RawWireClient[] = [];
  try {
    for (let opened = 0; opened < options.count; opened += options.concurrency) {
      const batch = Math.min(options.concurrency, options.count - opened);
      const logins = Array.from({ length: batch }, async () => {
        const client = await RawWireClient.connect(options.port);
        clients.push(client);
        await client.login(options.user, options.database, options.token);
      });
      await Promise.all(logins);
    }
    return clients;
  } catch (err) {
    for (const client of clients) client.close();
    throw err;
  }
}

/** Server backends connected to `database`, other than the one asking. */
export async function countBackends(url: string, database: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: number }>(
      "select count(*)::int as n from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()",
      [database],
    );
    return rows[0].n;
  } finally {
    await client.end();
  }
}

/** Waits until the server has at most `max` backends on `database` (the proxy closed the rest). */
export async function waitForBackends(url: string, database: string, max: number, timeoutMs = 15_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const n = await countBackends(url, database);
    if (n <= max || Date.now() > deadline) return n;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
