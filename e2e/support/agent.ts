import { execFileSync } from "node:child_process";
import pg from "pg";

/** A token for a seeded agent from `airlock token`, as people get one. */
export function agentToken(agent = "reporting-agent"): string {
  return execFileSync(process.execPath, ["bin/airlock.mjs", "token", agent], {
    encoding: "utf8",
    env: { ...process.env, AIRLOCK_DATA_DIR: process.env.AIRLOCK_E2E_DATA_DIR },
  }).trim();
}

/** A seeded agent connected through the e2e server's proxy with a token from `airlock token`. */
export async function connectAgent(baseURL: string, resource = "demo", agent = "reporting-agent"): Promise<pg.Client> {
  const health = (await (await fetch(`${baseURL}/api/health`)).json()) as { proxy: { host: string; port: number } };
  const client = new pg.Client({ host: health.proxy.host, port: health.proxy.port, user: agent, password: agentToken(agent), database: resource });
  await client.connect();
  return client;
}
