import fs from "node:fs";
import pg from "pg";
import postgres from "postgres";

/** Reads allowed, inserts held for one approver, pg_sleep allowed (last: a rule naming only functions matches statements that call none too). */
export function writeDrainPolicy(file: string, databaseUrl: string): void {
  fs.writeFileSync(
    file,
    [
      "resources:",
      `  pg: { type: postgres, url: "${databaseUrl}" }`,
      "rules:",
      "  - { name: agents-read, match: { groups: [agents], kinds: [select] }, action: allow }",
      "  - name: agents-write",
      "    match: { groups: [agents], kinds: [insert] }",
      "    action: review",
      "    review: { approvers: [db-approvers], count: 1, timeout: 10m, grants: [once] }",
      "  - { name: agents-sleep, match: { groups: [agents], functions: [pg_sleep] }, action: allow }",
      "",
    ].join("\n"),
  );
}

export interface Agent {
  client: pg.Client;
  notices: string[];
  errors: Array<Error & { code?: string }>;
}

/** reporting-agent on the `pg` resource, with the notices and connection errors it gets. */
export async function connectAgent(port: number, token: string): Promise<Agent> {
  const client = new pg.Client({ host: "127.0.0.1", port, user: "reporting-agent", password: token, database: "pg" });
  const notices: string[] = [];
  const errors: Array<Error & { code?: string }> = [];
  client.on("notice", (n) => notices.push(n.message ?? ""));
  client.on("error", (err) => errors.push(err));
  await client.connect();
  return { client, notices, errors };
}

export async function until(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  for (const end = Date.now() + ms; Date.now() < end; ) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Until PostgreSQL shows a statement starting with `prefix` running. */
export async function untilRunning(databaseUrl: string, prefix: string): Promise<void> {
  const sql = postgres(databaseUrl, { onnotice: () => undefined });
  try {
    for (const end = Date.now() + 10_000; Date.now() < end; ) {
      const [{ n }] = await sql`select count(*)::int as n from pg_stat_activity where query like ${`${prefix}%`} and state = 'active'`;
      if ((n as number) > 0) return;
    }
    throw new Error(`${prefix} never ran`);
  } finally {
    await sql.end();
  }
}
