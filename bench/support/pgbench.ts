import { spawn } from "node:child_process";
import path from "node:path";
import { findPostgresBin } from "../../scripts/postgres-bin.mjs";

/** Where pgbench (or psql) connects: PostgreSQL itself, or the proxy as an agent. */
export interface Target {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
}

export interface PgbenchResult {
  tps: number;
  latencyMs: number;
  /** Transactions run; with -S each is one statement, the divisor of CPU per statement. */
  transactions: number;
}

export function pgbenchPath(): string {
  const bin = findPostgresBin();
  if (!bin) throw new Error("PostgreSQL binaries not found under /usr/lib/postgresql: run `npm test` once (its pretest installs them)");
  return path.join(bin, "pgbench");
}

/**
 * Runs pgbench against a target and resolves with its output. Asynchronous on purpose: the
 * development IdP lives in this process and must keep answering the proxy's JWKS requests.
 */
export function runPgbench(target: Target, args: string[]): Promise<string> {
  const child = spawn(pgbenchPath(), [...args, "-h", target.host, "-p", String(target.port), "-U", target.user, target.database], {
    // Both paths in plain TCP: neither PostgreSQL nor the proxy is set up for TLS here.
    env: { ...process.env, PGPASSWORD: target.password, PGSSLMODE: "disable", PGGSSENCMODE: "disable" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => (code === 0 ? resolve(output) : reject(new Error(`pgbench ${args.join(" ")} failed (exit ${code}):\n${output}`))));
  });
}

/** Reads the figures pgbench ≥ 14 prints at the end of a run. */
export function parsePgbench(output: string): PgbenchResult {
  const tps = /^tps = ([\d.]+) \(without initial connection time\)$/m.exec(output);
  const latency = /^latency average = ([\d.]+) ms$/m.exec(output);
  const transactions = /^number of transactions actually processed: (\d+)/m.exec(output);
  if (!tps || !latency || !transactions) throw new Error(`cannot read tps, latency and transactions from pgbench output:\n${output}`);
  return { tps: Number(tps[1]), latencyMs: Number(latency[1]), transactions: Number(transactions[1]) };
}
