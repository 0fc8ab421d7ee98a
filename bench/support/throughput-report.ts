import { table, verdict } from "./report";
import { cpuPerStatementUs, type Mode, type ThroughputRun } from "./throughput";

/** Issue 17's budgets for the Airlock path. */
const MAX_CPU_US_PER_SIMPLE_STATEMENT = 40;
const MIN_RATIO_AT_8 = 0.6;
const MIN_SHARE_OF_PGBOUNCER_RATIO = 0.8;
const MAX_EXTENDED_SHORTFALL = 0.1;
const MAX_ADDED_US_AT_1 = 60;

const DIRECT = "direct";
const us = (n: number | undefined) => (n === undefined ? "n/a" : `${n.toFixed(0)} µs`);
const x = (n: number | undefined) => (n === undefined ? "n/a" : `${n.toFixed(2)}×`);

/** Every run: throughput, its ratio to the direct run of the same case, added latency, proxy CPU. */
export function throughputTable(runs: ThroughputRun[], idleRates: Map<string, number>): string {
  const rows = runs.map((run) => {
    const direct = find(runs, DIRECT, run.mode, run.clients);
    const own = run.path === DIRECT;
    const cpu = run.cpu && run.cpu.user + run.cpu.system;
    return [
      run.mode,
      String(run.clients),
      run.path,
      run.result.tps.toFixed(0),
      String(run.result.transactions),
      own ? "" : x(direct && run.result.tps / direct.result.tps),
      `${(run.result.latencyMs * 1000).toFixed(0)} µs`,
      own ? "" : us(direct && (run.result.latencyMs - direct.result.latencyMs) * 1000),
      own ? "" : us(cpuPerStatementUs(run)),
      own ? "" : `${us(cpuPerStatementUs(run, "user"))} + ${us(cpuPerStatementUs(run, "system"))}`,
      own ? "" : us(cpuPerStatementUs(run, "total", idleRates.get(run.path))),
      own || cpu === undefined ? "" : `${((cpu / run.wallSeconds) * 100).toFixed(0)}%`,
    ];
  });
  return table(["mode", "clients", "path", "TPS", "statements", "× direct", "latency", "added", "proxy CPU/stmt", "user + system", "net of idle", "proxy CPU"], rows);
}

/** The budgets beside the figures: Airlock's, with pgbouncer's same figure for comparison. */
export function budgetTable(runs: ThroughputRun[], proxy: string, reference: string | undefined): string {
  const ratio = (path: string, mode: Mode, clients: number) => {
    const run = find(runs, path, mode, clients);
    const direct = find(runs, DIRECT, mode, clients);
    return run && direct ? run.result.tps / direct.result.tps : undefined;
  };
  const addedUs = (path: string, mode: Mode) => {
    const run = find(runs, path, mode, 1);
    const direct = find(runs, DIRECT, mode, 1);
    return run && direct ? (run.result.latencyMs - direct.result.latencyMs) * 1000 : undefined;
  };
  const cpu = (path: string, mode: Mode, clients: number) => {
    const run = find(runs, path, mode, clients);
    return run && cpuPerStatementUs(run);
  };
  const ref = <T,>(f: (path: string) => T) => (reference ? f(reference) : undefined);
  const check = (value: number | undefined, ok: (v: number) => boolean, budget: string) => (value === undefined ? "n/a" : verdict(ok(value), budget));

  const cpu8 = cpu(proxy, "simple", 8);
  const ratio8 = ratio(proxy, "simple", 8);
  const refRatio8 = ref((p) => ratio(p, "simple", 8));
  const share = ratio8 !== undefined && refRatio8 ? ratio8 / refRatio8 : undefined;
  const ext8 = ratio(proxy, "extended", 8);
  const extendedShare = ext8 !== undefined && ratio8 ? ext8 / ratio8 : undefined;
  const added1 = addedUs(proxy, "simple");
  const rows = [
    ["CPU per simple statement, 8 clients", us(cpu8), us(ref((p) => cpu(p, "simple", 8))), check(cpu8, (v) => v <= MAX_CPU_US_PER_SIMPLE_STATEMENT, `≤ ${MAX_CPU_US_PER_SIMPLE_STATEMENT} µs`)],
    ["CPU per simple statement, 1 client", us(cpu(proxy, "simple", 1)), us(ref((p) => cpu(p, "simple", 1))), ""],
    ["CPU per extended statement, 8 clients", us(cpu(proxy, "extended", 8)), us(ref((p) => cpu(p, "extended", 8))), ""],
    ["8 clients simple, × direct", x(ratio8), x(refRatio8), check(ratio8, (v) => v >= MIN_RATIO_AT_8, `≥ ${MIN_RATIO_AT_8}×`)],
    ["8 clients simple, share of pgbouncer's ratio", share === undefined ? "n/a" : `${(share * 100).toFixed(0)}%`, "", check(share, (v) => v >= MIN_SHARE_OF_PGBOUNCER_RATIO, `≥ ${MIN_SHARE_OF_PGBOUNCER_RATIO * 100}%`)],
    ["8 clients extended ÷ simple (each × direct)", extendedShare === undefined ? "n/a" : `${(extendedShare * 100).toFixed(0)}%`, pct(ref((p) => ratio(p, "extended", 8)), refRatio8), check(extendedShare, (v) => v >= 1 - MAX_EXTENDED_SHORTFALL, `≥ ${Math.round((1 - MAX_EXTENDED_SHORTFALL) * 100)}%`)],
    // The same comparison by CPU, which the machine's load moves far less than throughput.
    ["8 clients extended ÷ simple, CPU/stmt", pct(cpu(proxy, "extended", 8), cpu8), pct(ref((p) => cpu(p, "extended", 8)), ref((p) => cpu(p, "simple", 8))), check(pctOf(cpu(proxy, "extended", 8), cpu8), (v) => v <= 1 + MAX_EXTENDED_SHORTFALL, `≤ ${Math.round((1 + MAX_EXTENDED_SHORTFALL) * 100)}%`)],
    ["1 client simple, added latency", us(added1), us(ref((p) => addedUs(p, "simple"))), check(added1, (v) => v <= MAX_ADDED_US_AT_1, `≤ ${MAX_ADDED_US_AT_1} µs`)],
    ["1 client extended, added latency", us(addedUs(proxy, "extended")), us(ref((p) => addedUs(p, "extended"))), ""],
  ];
  return table(["budget (issue 17)", proxy, reference ?? "pgbouncer (not run)", "verdict"], rows);
}

function pctOf(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined || !b ? undefined : a / b;
}

function pct(a: number | undefined, b: number | undefined): string {
  const share = pctOf(a, b);
  return share === undefined ? "n/a" : `${(share * 100).toFixed(0)}%`;
}

function find(runs: ThroughputRun[], path: string, mode: Mode, clients: number): ThroughputRun | undefined {
  return runs.find((r) => r.path === path && r.mode === mode && r.clients === clients);
}
