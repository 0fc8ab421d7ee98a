import { execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";

export type Outcome = "ok" | "failed" | "not run";

export interface RegressRun {
  /** Every test of the schedule, in schedule order. */
  results: Map<string, Outcome>;
  /** regression.diffs, empty when every test passed. */
  diffs: string;
  timedOut: boolean;
  seconds: number;
  /** The run's own dir (results/, regression.diffs, pg_regress.log), kept for reading. */
  dir: string;
}

export interface RunOptions {
  label: string;
  regressDir: string;
  bindir: string;
  host: string;
  port: number;
  user: string;
  /** PGPASSWORD, PGPASSFILE… for pg_regress and its psql children. */
  env: Record<string, string>;
  timeoutMs: number;
  /** Where the run's dir goes; it must be reachable by the `postgres` user. */
  parent: string;
  say: (line: string) => void;
  /** Called with a function that stops the run at once (Ctrl-C). */
  onStart: (stop: () => void) => void;
}

/** The built test tree's parts a run reads; the rest (sources, objects) stays in the cache. */
const TREE = ["pg_regress", "regress.so", "autoinc.so", "refint.so", "parallel_schedule", "resultmap", "sql", "expected", "data"];

/**
 * pg_regress's parallel_schedule against an existing server (installcheck mode: it drops and
 * creates `regression` through the database `postgres`). It runs as `postgres` in a copy of the
 * test tree that user owns, because the server itself reads data/ and writes results/ (COPY).
 */
export async function runPgRegress(options: RunOptions): Promise<RegressRun> {
  const dir = fs.mkdtempSync(path.join(options.parent, `${options.label}-`));
  for (const entry of TREE) fs.cpSync(path.join(options.regressDir, entry), path.join(dir, entry), { recursive: true });
  const root = process.getuid?.() === 0;
  if (root) execFileSync("chown", ["-R", "postgres:postgres", dir]);
  const schedule = readSchedule(path.join(dir, "parallel_schedule"));
  const results = new Map<string, Outcome>(schedule.map((t) => [t, "not run"]));

  const args = [
    `--inputdir=${dir}`, `--outputdir=${dir}`, `--dlpath=${dir}`, `--bindir=${options.bindir}`,
    `--host=${options.host}`, `--port=${options.port}`, `--user=${options.user}`,
    `--schedule=${path.join(dir, "parallel_schedule")}`, "--max-concurrent-tests=20",
  ];
  const pgRegress = path.join(dir, "pg_regress");
  const [cmd, ...pre] = root ? ["runuser", "-u", "postgres", "--", pgRegress] : [pgRegress];
  const started = Date.now();
  // Its own process group, so a timeout or Ctrl-C ends pg_regress and every psql it started.
  const child = spawn(cmd, [...pre, ...args], { cwd: dir, detached: true, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...options.env } });
  const stop = () => {
    try {
      process.kill(-child.pid!, "SIGKILL");
    } catch {
      // already gone
    }
  };
  options.onStart(stop);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    options.say(`  ${options.label}: timed out after ${Math.round(options.timeoutMs / 60_000)} min, stopping pg_regress`);
    stop();
  }, options.timeoutMs);

  const log = fs.createWriteStream(path.join(dir, "pg_regress.log"));
  child.stderr.pipe(log, { end: false });
  let done = 0;
  for await (const line of createInterface({ input: child.stdout })) {
    log.write(`${line}\n`);
    const match = /^(?:test\s+|\s+)(\S+)\s+\.\.\. (ok|FAILED|failed \(ignored\))/.exec(line);
    if (!match || !results.has(match[1])) continue;
    results.set(match[1], match[2] === "ok" ? "ok" : "failed");
    if (++done % 25 === 0) options.say(`  ${options.label}: ${done} of ${schedule.length} tests run`);
  }
  await new Promise((resolve) => (child.exitCode === null && child.signalCode === null ? child.once("close", resolve) : resolve(null)));
  clearTimeout(timer);
  log.end();
  const diffsFile = path.join(dir, "regression.diffs");
  return {
    results,
    diffs: fs.existsSync(diffsFile) ? fs.readFileSync(diffsFile, "utf8") : "",
    timedOut,
    seconds: Math.round((Date.now() - started) / 1000),
    dir,
  };
}

/** The test names of a pg_regress schedule (`test: a b c` lines). */
export function readSchedule(file: string): string[] {
  return fs
    .readFileSync(file, "utf8")
    .split("\n")
    .filter((line) => line.startsWith("test:"))
    .flatMap((line) => line.slice("test:".length).trim().split(/\s+/));
}

/** A dir under the system temp dir that the `postgres` user can enter, removed by remove(). */
export function makeRunParent(): { path: string; remove(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "airlock-regress-"));
  fs.chmodSync(dir, 0o755);
  return { path: dir, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}
