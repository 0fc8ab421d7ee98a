/** `npm run soak`'s figures: the proxy's RSS and fds over time, latency percentiles per kind, the end checks. */
import fs from "node:fs";
import { readMemory } from "./memory";
import { mb, table } from "./report";
import { KINDS, type Tally } from "./soak-workload";

export interface Sample {
  atSeconds: number;
  rssMb: number;
  fds: number;
}

/** The proxy's resident memory (/proc/PID/status) and open file descriptors (/proc/PID/fd); undefined once it is gone. */
export function sampleProcess(pid: number, atSeconds: number): Sample | undefined {
  try {
    return { atSeconds, rssMb: readMemory(pid).rssMb, fds: fs.readdirSync(`/proc/${pid}/fd`).length };
  } catch {
    return undefined;
  }
}

export function percentile(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const msText = (n: number | undefined) => (n === undefined ? "–" : n >= 100 ? n.toFixed(0) : n.toFixed(1));

/** One line of progress: elapsed, statements by kind so far, the proxy's RSS and fds, read and masked-read p50/p99. */
export function progressLine(elapsed: number, tally: Tally, sample: Sample): string {
  const counts = KINDS.map((k) => `${shortName(k)} ${tally.latencies.get(k)!.length}`).join(" ");
  const reads = tally.latencies.get("read")!;
  const masked = tally.latencies.get("masked read")!;
  return (
    `${String(Math.round(elapsed)).padStart(5)} s  sent ${tally.sent} (${counts})  RSS ${mb(sample.rssMb)}  fds ${sample.fds}  ` +
    `read p50/p99 ${msText(percentile(reads, 50))}/${msText(percentile(reads, 99))} ms  masked ${msText(percentile(masked, 50))}/${msText(percentile(masked, 99))} ms`
  );
}

function shortName(kind: (typeof KINDS)[number]): string {
  return { read: "r", "masked read": "m", "held → approved": "ha", "held → denied": "hd", "grant asked (held)": "ga", "granted write": "gw", "access request": "ar", "disconnect mid-stmt": "dc" }[kind];
}

export function latencyTable(tally: Tally): string {
  const rows = KINDS.map((kind) => {
    const values = tally.latencies.get(kind)!;
    return [kind, String(values.length), ...[50, 95, 99].map((p) => msText(percentile(values, p))), msText(values.length ? Math.max(...values) : undefined)];
  });
  return table(["kind", "count", "p50 ms", "p95 ms", "p99 ms", "max ms"], rows);
}

/** RSS and fds at the end of warm-up against the end of the load, with growth; flat means ≤ 10%. */
export function growthTable(warm: Sample, end: Sample, peak: Sample): string {
  const growth = (a: number, b: number) => `${(((b - a) / a) * 100).toFixed(1)}%`;
  const flat = (a: number, b: number) => ((b - a) / a <= 0.1 ? "flat (≤ 10%)" : "GREW (> 10%)");
  return table(
    ["", `warm-up end (${warm.atSeconds} s on)`, `end (${end.atSeconds} s on)`, "growth", "", "highest sample"],
    [
      ["RSS", mb(warm.rssMb), mb(end.rssMb), growth(warm.rssMb, end.rssMb), flat(warm.rssMb, end.rssMb), mb(peak.rssMb)],
      ["fds", String(warm.fds), String(end.fds), growth(warm.fds, end.fds), flat(warm.fds, end.fds), String(peak.fds)],
    ],
  );
}
