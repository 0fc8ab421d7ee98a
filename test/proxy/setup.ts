import { spawn } from "node:child_process";
import { after, before } from "node:test";
import { startPostgres, type TestPostgres } from "../support/postgres";
import { startProxyHarness, type ProxyHarness } from "../support/proxy-harness";

/** Every proxy test runs against both kinds of database, by resource name. */
export const RESOURCES = [
  { resource: "demo", kind: "PGlite" },
  { resource: "pg", kind: "PostgreSQL" },
] as const;

export interface ProxyTestEnv {
  harness: ProxyHarness;
  postgres: TestPostgres;
}

/** Starts a real PostgreSQL and the proxy in front of it and of PGlite, once per test file. */
export function withProxy(): () => ProxyTestEnv {
  let env: ProxyTestEnv | undefined;
  before(async () => {
    const postgres = await startPostgres();
    const harness = await startProxyHarness({ demo: "pglite://demo", pg: postgres.url });
    env = { harness, postgres };
  });
  after(async () => {
    await env?.harness.close();
    await env?.postgres.stop();
  });
  return () => {
    if (!env) throw new Error("the proxy is not started yet");
    return env;
  };
}

/**
 * psql, as an agent would run it: -X (no psqlrc), unaligned, tuples only, stop on error; `env`
 * adds libpq's variables (PGTZ, PGOPTIONS…). Run asynchronously: the proxy under test lives in
 * this same process.
 */
export function psql(url: string, args: string[], input?: string, env: Record<string, string> = {}): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn("psql", [url, "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", ...args], {
      env: { ...process.env, PGSSLMODE: "disable", PGCONNECT_TIMEOUT: "20", ...env },
      timeout: 60_000,
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d));
    child.stderr.on("data", (d: Buffer) => (stderr += d));
    child.stdin.end(input ?? "");
    child.on("close", (status) => resolve({ status, stdout: stdout.trim(), stderr: stderr.trim() }));
  });
}
