/**
 * Summarizes a V8 .cpuprofile (node --cpu-prof) as plain text: the top functions and files by self
 * time and by inclusive time, and coarse groups (our code, node internals, packages, GC).
 *
 *   node --import tsx bench/support/cpuprofile-summary.ts FILE.cpuprofile [--statements N] [--skip S | --from FILE] [--top 25]
 *
 * --statements: statements run while profiling (pgbench's count), to show µs per statement.
 * --skip: seconds at the start to leave out (start-up: module loading, tsx compiling);
 * --from proxy/relay.ts: leave out everything before the first sample with that file on its stack.
 * Percentages are of busy time (all samples but "(idle)"); inclusive time counts a function once
 * per sample even when it recurses.
 */
import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { table } from "./report";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..", "..");

/** Where a frame's code lives, short: "proxy/relay.ts", "node:internal/streams/writable", "node_modules/pg". */
export function fileOf(frame: CallFrame): string {
  const url = frame.url;
  if (!url) return /^\(.*\)$/.test(frame.functionName) ? frame.functionName : "(native)";
  const file = url.startsWith("file://") ? new URL(url).pathname : url;
  const modules = /\/node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file);
  if (modules) return `node_modules/${modules[1]}`;
  return file.startsWith(`${ROOT}/`) ? file.slice(ROOT.length + 1) : file;
}

/** The coarse group a file belongs to, for "how much is ours and how much is Node". */
export function groupOf(file: string): string {
  if (file.startsWith("proxy/")) return "ours: proxy/";
  if (file.startsWith("lib/")) return "ours: lib/";
  if (file.startsWith("node:internal/streams") || file === "node:stream") return "node: streams";
  if (file.startsWith("node:internal/buffer") || file === "node:buffer") return "node: Buffer";
  if (file.startsWith("node:") || file.startsWith("internal/")) return "node: other internals (net, timers, …)";
  if (file.startsWith("node_modules/")) return file;
  if (file === "(native)") return "native (C++ builtins: socket writes, crypto, …)";
  return file;
}

interface Summary {
  busyUs: number;
  idleUs: number;
  selfByFunction: Map<string, number>;
  totalByFunction: Map<string, number>;
  selfByFile: Map<string, number>;
  totalByFile: Map<string, number>;
  selfByGroup: Map<string, number>;
}

export function summarize(profile: CpuProfile, skipUs: number, fromFile?: string): Summary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

  // A sample's time runs until the next sample is taken.
  const selfTime = new Map<number, number>();
  let at = profile.startTime;
  const stamps = profile.timeDeltas.map((d) => (at += d));
  const onStack = (id: number, file: string) => {
    for (let node: number | undefined = id; node !== undefined; node = parent.get(node)) if (fileOf(byId.get(node)!.callFrame) === file) return true;
    return false;
  };
  const first = fromFile === undefined ? 0 : profile.samples.findIndex((id) => onStack(id, fromFile));
  if (first < 0) throw new Error(`no sample has ${fromFile} on its stack`);
  for (let i = first; i < profile.samples.length - 1; i++) {
    if (stamps[i] - profile.startTime < skipUs) continue;
    const id = profile.samples[i];
    selfTime.set(id, (selfTime.get(id) ?? 0) + (stamps[i + 1] - stamps[i]));
  }

  const s: Summary = { busyUs: 0, idleUs: 0, selfByFunction: new Map(), totalByFunction: new Map(), selfByFile: new Map(), totalByFile: new Map(), selfByGroup: new Map() };
  const add = (map: Map<string, number>, key: string, us: number) => map.set(key, (map.get(key) ?? 0) + us);
  for (const [id, us] of selfTime) {
    const frame = byId.get(id)!.callFrame;
    if (frame.functionName === "(idle)") {
      s.idleUs += us;
      continue;
    }
    s.busyUs += us;
    const file = fileOf(frame);
    add(s.selfByFunction, functionKey(frame), us);
    add(s.selfByFile, file, us);
    add(s.selfByGroup, groupOf(file), us);
    const functions = new Set<string>();
    const files = new Set<string>();
    for (let node: number | undefined = id; node !== undefined; node = parent.get(node)) {
      const f = byId.get(node)!.callFrame;
      if (f.functionName === "(root)") continue;
      functions.add(functionKey(f));
      files.add(fileOf(f));
    }
    for (const key of functions) add(s.totalByFunction, key, us);
    for (const key of files) add(s.totalByFile, key, us);
  }
  return s;
}

function functionKey(frame: CallFrame): string {
  const file = fileOf(frame);
  const name = frame.functionName || "(anonymous)";
  return file === name ? name : `${name}  ${file}:${frame.lineNumber + 1}`;
}

function top(map: Map<string, number>, s: Summary, count: number, statements: number | undefined, label: string): string {
  const rows = [...map].sort((a, b) => b[1] - a[1]).slice(0, count).map(([key, us]) => [
    key,
    `${(us / 1000).toFixed(0)} ms`,
    `${((us / s.busyUs) * 100).toFixed(1)}%`,
    ...(statements ? [(us / statements).toFixed(2)] : []),
  ]);
  return table([label, "time", "% busy", ...(statements ? ["µs/stmt"] : [])], rows);
}

function main(): void {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { statements: { type: "string" }, skip: { type: "string" }, from: { type: "string" }, top: { type: "string" } },
  });
  if (positionals.length !== 1) throw new Error("usage: cpuprofile-summary.ts FILE.cpuprofile [--statements N] [--skip SECONDS] [--top 25]");
  const profile = JSON.parse(fs.readFileSync(positionals[0], "utf8")) as CpuProfile;
  const statements = values.statements ? Number(values.statements) : undefined;
  const count = Number(values.top ?? 25);
  const s = summarize(profile, Number(values.skip ?? 0) * 1e6, values.from);
  const perStatement = statements ? `, ${(s.busyUs / statements).toFixed(1)} µs per statement over ${statements} statements` : "";
  console.log(`${positionals[0]}: busy ${(s.busyUs / 1e6).toFixed(2)} s, idle ${(s.idleUs / 1e6).toFixed(2)} s${perStatement}\n`);
  console.log(top(s.selfByGroup, s, count, statements, "group (self time)"));
  console.log(`\n${top(s.selfByFile, s, count, statements, "file (self time)")}`);
  console.log(`\n${top(s.totalByFile, s, count, statements, "file (inclusive time)")}`);
  console.log(`\n${top(s.selfByFunction, s, count, statements, "function (self time)")}`);
  console.log(`\n${top(s.totalByFunction, s, count, statements, "function (inclusive time)")}`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === new URL(import.meta.url).pathname) main();
