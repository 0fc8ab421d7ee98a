/**
 * `npm run regress`: PostgreSQL's own regression suite (parallel_schedule) against a throwaway
 * PostgreSQL, directly and through Airlock with an allow-all policy, and what differs. Exits
 * non-zero when fewer tests pass through Airlock than directly. See docs/development.md "Wire fidelity".
 *
 * Settings: AIRLOCK_REGRESS_CACHE (default ~/.cache/airlock-regress), AIRLOCK_REGRESS_TIMEOUT_MIN
 * (per pg_regress run, default 30).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { findPostgresBin } from "./postgres-bin.mjs";
import { startPostgres } from "../test/support/postgres";
import { ensureRegressBuild } from "./regress/build";
import { formatReport } from "./regress/report";
import { makeRunParent, runPgRegress, type RegressRun, type RunOptions } from "./regress/run";

const cacheDir = process.env.AIRLOCK_REGRESS_CACHE ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), ".cache"), "airlock-regress");
const timeoutMs = Number(process.env.AIRLOCK_REGRESS_TIMEOUT_MIN ?? 30) * 60_000;

// Ours goes to stdout; the proxy's own console chatter goes to a log file beside the results.
const out = (line: string) => process.stdout.write(`${line}\n`);

/** What was started, stopped in reverse order at the end, on error and on Ctrl-C. */
const cleanups: Array<() => unknown> = [];
/** Stops what was started since the stack was `depth` deep. */
async function cleanUp(depth = 0): Promise<void> {
  for (const fn of cleanups.splice(depth).reverse()) {
    try {
      await fn();
    } catch (err) {
      out(`cleanup: ${String(err)}`);
    }
  }
}
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    out(`\n${signal}: stopping everything`);
    void cleanUp().finally(() => process.exit(130));
  });
}

async function main(): Promise<number> {
  const bin = findPostgresBin();
  if (!bin) throw new Error("no PostgreSQL server under /usr/lib/postgresql: apt-get install postgresql");
  const major = path.basename(path.dirname(bin));
  const build = ensureRegressBuild(cacheDir, major, (line) => out(line));
  out(`PostgreSQL ${build.version} regression suite, server ${bin}`);
  const parent = makeRunParent();
  cleanups.push(() => parent.remove());
  redirectConsole(path.join(parent.path, "airlock.log"));

  const common = { regressDir: build.dir, bindir: bin, host: "127.0.0.1", timeoutMs, parent: parent.path, say: out };
  // A fresh server per run, so nothing one run leaves behind (roles, databases) changes the other.
  const direct = await withPostgres(async (pg) => regress({ ...common, label: "direct", port: pg.port, user: pg.user, env: { PGPASSWORD: pg.password } }));
  // Imported only now, so what the proxy's modules print on loading goes to the log too.
  const { AGENT, startAirlock } = await import("./regress/airlock");
  const airlock = await withPostgres(async (pg) => {
    const proxy = await startAirlock(pg.url, parent.path);
    cleanups.push(() => proxy.close());
    return regress({ ...common, label: "airlock", port: proxy.port, user: AGENT, env: { PGPASSFILE: proxy.passfile } });
  });

  const { text, comparison } = formatReport(direct, airlock);
  out(`\n${text}`);
  const kept = keep(parent.path, [direct, airlock]);
  out(`diffs and logs: ${kept}`);
  return comparison.passedAirlock < comparison.passedDirect ? 1 : 0;
}

async function withPostgres(fn: (pg: Awaited<ReturnType<typeof startPostgres>>) => Promise<RegressRun>): Promise<RegressRun> {
  const depth = cleanups.length;
  const pg = await startPostgres();
  cleanups.push(() => pg.stop());
  try {
    return await fn(pg);
  } finally {
    await cleanUp(depth);
  }
}

async function regress(options: Omit<RunOptions, "onStart">): Promise<RegressRun> {
  out(`running parallel_schedule ${options.label === "direct" ? "directly" : "through Airlock"} (port ${options.port})`);
  const run = await runPgRegress({ ...options, onStart: (stop) => cleanups.push(stop) });
  const failed = [...run.results.values()].filter((r) => r !== "ok").length;
  out(`  ${options.label}: ${run.results.size - failed} of ${run.results.size} passed in ${run.seconds} s`);
  return run;
}

/** Copies what a reader needs after the temp dir is gone: diffs and pg_regress's output. */
function keep(parent: string, runs: RegressRun[]): string {
  const dest = path.join(cacheDir, "last-run");
  fs.rmSync(dest, { recursive: true, force: true });
  for (const run of runs) {
    const to = path.join(dest, path.basename(run.dir).replace(/-[^-]+$/, ""));
    fs.mkdirSync(to, { recursive: true });
    for (const f of ["regression.diffs", "regression.out", "pg_regress.log"]) {
      if (fs.existsSync(path.join(run.dir, f))) fs.copyFileSync(path.join(run.dir, f), path.join(to, f));
    }
  }
  fs.copyFileSync(path.join(parent, "airlock.log"), path.join(dest, "airlock.log"));
  return dest;
}

function redirectConsole(file: string): void {
  const log = fs.createWriteStream(file);
  const write = (...args: unknown[]) => log.write(`${args.map((a) => (typeof a === "string" ? a : String(a))).join(" ")}\n`);
  console.log = console.info = console.warn = console.error = console.debug = write;
}

main()
  .then(async (code) => {
    await cleanUp();
    process.exit(code);
  })
  .catch(async (err: unknown) => {
    out(`regress: ${err instanceof Error ? err.message : String(err)}`);
    await cleanUp();
    process.exit(2);
  });
