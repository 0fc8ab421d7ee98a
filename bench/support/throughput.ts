import os from "node:os";
import { readTreeCpu, type CpuTime } from "./cpu";
import { parsePgbench, runPgbench, type PgbenchResult, type Target } from "./pgbench";

export type Mode = "simple" | "extended";

/** One way to reach the database: straight, through pgbouncer, through Airlock. */
export interface BenchPath {
  name: string;
  target: Target;
  /** The proxy's process, whose CPU time is read around each run; none for the direct path. */
  pid?: number;
}

export interface ThroughputRun {
  path: string;
  mode: Mode;
  clients: number;
  result: PgbenchResult;
  /** The proxy's CPU time over the run, seconds. */
  cpu?: CpuTime;
  /** How long pgbench ran, connecting included: the span the CPU time covers. */
  wallSeconds: number;
}

/** BENCH_MODES / BENCH_CLIENTS narrow the matrix, e.g. for a profile of one case. */
export function benchMatrix(env: NodeJS.ProcessEnv): { modes: Mode[]; clients: number[] } {
  const modes = (env.BENCH_MODES || "simple,extended").split(",").map((m) => m.trim());
  for (const mode of modes) if (mode !== "simple" && mode !== "extended") throw new Error(`BENCH_MODES: "${mode}" is neither simple nor extended`);
  const clients = (env.BENCH_CLIENTS || "1,8").split(",").map(Number);
  for (const c of clients) if (!Number.isInteger(c) || c < 1) throw new Error(`BENCH_CLIENTS: "${env.BENCH_CLIENTS}" is not a list of client counts`);
  return { modes: modes as Mode[], clients };
}

const WARM_UP_SECONDS = 2;

/**
 * pgbench -S for each mode and client count, the paths back to back for each, so a change in the
 * machine's load hits them alike. Each path first gets a short unmeasured run (the proxies' JIT and
 * caches; the database's after pgbench -i, whose first minutes also bring autovacuum).
 */
export async function measureThroughput(seconds: number, paths: BenchPath[], matrix: { modes: Mode[]; clients: number[] }): Promise<ThroughputRun[]> {
  const argsFor = (mode: Mode, clients: number, runSeconds: number) =>
    ["-n", "-S", "-T", String(runSeconds), "-c", String(clients), "-j", String(Math.min(clients, 2)), "-M", mode];
  for (const path of paths) {
    const warm = parsePgbench(await runPgbench(path.target, argsFor("simple", 8, WARM_UP_SECONDS)));
    // Printed so a profile of the whole run can be divided by every statement it saw.
    console.log(`  warm-up through ${path.name}: ${warm.transactions} statements (simple, 8 clients, ${WARM_UP_SECONDS} s)`);
  }

  const runs: ThroughputRun[] = [];
  for (const mode of matrix.modes) {
    for (const clients of matrix.clients) {
      const line: string[] = [];
      for (const path of paths) {
        const before = path.pid === undefined ? undefined : readTreeCpu(path.pid);
        const started = performance.now();
        const result = parsePgbench(await runPgbench(path.target, argsFor(mode, clients, seconds)));
        const after = path.pid === undefined ? undefined : readTreeCpu(path.pid);
        const cpu = before && after ? { user: after.user - before.user, system: after.system - before.system } : undefined;
        runs.push({ path: path.name, mode, clients, result, cpu, wallSeconds: (performance.now() - started) / 1000 });
        line.push(`${path.name} ${result.tps.toFixed(0)} tps`);
      }
      console.log(`  ${mode} -c ${clients}: ${line.join(", ")}   (load ${loadAverage()})`);
    }
  }
  return runs;
}

/**
 * Each proxy's CPU while nobody uses it (timers: the recorder, event polling, heartbeats), as a
 * fraction of one core: on a loaded machine few statements run, and this fixed cost divided by
 * them would look like a cost per statement.
 */
export async function measureIdleCpu(paths: BenchPath[], seconds: number): Promise<Map<string, number>> {
  const rates = new Map<string, number>();
  const measured = paths.filter((p) => p.pid !== undefined);
  const before = measured.map((p) => readTreeCpu(p.pid!));
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  measured.forEach((p, i) => {
    const after = readTreeCpu(p.pid!);
    rates.set(p.name, Math.max(0, (after.user + after.system - before[i].user - before[i].system) / seconds));
  });
  return rates;
}

export function loadAverage(): string {
  return os.loadavg().map((l) => l.toFixed(2)).join(" ");
}

/**
 * Proxy CPU microseconds per statement, user + system (pgbench -S: one statement per transaction);
 * with `idleRate`, net of what the proxy spends idle over the same span.
 */
export function cpuPerStatementUs(run: ThroughputRun, part: "total" | keyof CpuTime = "total", idleRate = 0): number | undefined {
  if (!run.cpu || run.result.transactions === 0) return undefined;
  const seconds = (part === "total" ? run.cpu.user + run.cpu.system : run.cpu[part]) - idleRate * run.wallSeconds;
  return (seconds * 1e6) / run.result.transactions;
}
