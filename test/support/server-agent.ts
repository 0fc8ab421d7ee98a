import { spawn } from "node:child_process";
import pg from "pg";
import type { RunningAirlock } from "./airlock-server";

/** A token for a seeded agent from `airlock token`, as people get one. */
export function agentToken(airlock: RunningAirlock, agent = "reporting-agent"): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, ["bin/airlock.mjs", "token", agent], { env: { ...process.env, AIRLOCK_DATA_DIR: airlock.dataDir, AIRLOCK_PORT: String(airlock.port) } });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d));
    child.on("close", (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(`airlock token exited ${code}`))));
  });
}

/** Where the server's proxy listens, from its health endpoint. */
export async function proxyPort(airlock: RunningAirlock): Promise<number> {
  const health = (await (await fetch(`${airlock.url}/api/health`)).json()) as { proxy: { port: number } };
  return health.proxy.port;
}

/**
 * An agent connected through the server's proxy, with the notices it is sent. Its token comes from
 * `issuer`'s development IdP: the server itself, or the one instance all instances on a store trust.
 */
export async function connectAgent(airlock: RunningAirlock, resource = "demo", agent = "reporting-agent", issuer = airlock): Promise<{ client: pg.Client; notices: string[] }> {
  const client = new pg.Client({ host: "127.0.0.1", port: await proxyPort(airlock), user: agent, password: await agentToken(issuer, agent), database: resource });
  const notices: string[] = [];
  client.on("notice", (n) => notices.push(n.message ?? ""));
  client.on("error", () => undefined);
  await client.connect();
  return { client, notices };
}
