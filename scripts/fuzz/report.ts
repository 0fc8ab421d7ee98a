/** The wire fuzz's figures and findings, as the run's last words. */
import { describeCase } from "./case";
import type { WireRunResult } from "./wire-run";

const MB = 1024 * 1024;

/** Prints the figures and every finding; says whether there was any finding. */
export function printWireReport(r: WireRunResult, seed: number, log: string): boolean {
  const top = [...r.codes].sort((a, b) => b[1] - a[1]).slice(0, 12).map(([code, n]) => `${code}×${n}`).join(" ");
  console.log(`[fuzz] wire: ${r.sessions} sessions (${r.loggedIn} logged in), ${r.messages} steps; SQLSTATEs seen: ${top}`);
  for (const l of r.latency) {
    console.log(`[fuzz] healthy client on ${l.resource}: p99 ${l.baselineP99.toFixed(1)} ms alone (${l.baselineCount} statements), ${l.fuzzP99.toFixed(1)} ms under fuzz (${l.fuzzCount})`);
  }
  const mem = (s: typeof r.before) => `heap ${(s.heapUsed / MB).toFixed(1)} MB, rss ${(s.rss / MB).toFixed(0)} MB`;
  console.log(`[fuzz] proxy memory (after gc): before ${mem(r.before)}; after ${mem(r.after)}`);
  console.log(`[fuzz] sessions recorded: ${r.after.sessionsStarted} started, ${r.after.sessionsEnded} ended; requests decided by the auto-decider: ${r.after.decided}, left pending: ${r.after.pendingRequests}`);
  console.log(`[fuzz] proxy log lines: ${JSON.stringify(r.after.errorLines)} (${log})`);
  for (const f of r.findings.all) {
    console.log(`\nFINDING ${f.kind} (${f.count}×, seed ${seed}): ${f.message}`);
    if (f.case) console.log(describeCase(f.case));
  }
  return r.findings.all.length > 0;
}
