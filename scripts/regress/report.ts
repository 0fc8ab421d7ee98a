import type { RegressRun } from "./run";

/** At most this much of a hunk is printed: the first lines name the difference. */
const HUNK_LINES = 30;
const LINE_CHARS = 160;

export interface Comparison {
  total: number;
  passedDirect: number;
  passedAirlock: number;
  bothPassed: string[];
  onlyAirlockFailed: string[];
  bothFailed: string[];
  /** Passing through Airlock but not directly: unexpected, shown so it is not missed. */
  onlyDirectFailed: string[];
}

export function compare(direct: RegressRun, airlock: RegressRun): Comparison {
  const names = [...direct.results.keys()];
  const ok = (run: RegressRun, name: string) => run.results.get(name) === "ok";
  return {
    total: names.length,
    passedDirect: names.filter((n) => ok(direct, n)).length,
    passedAirlock: names.filter((n) => ok(airlock, n)).length,
    bothPassed: names.filter((n) => ok(direct, n) && ok(airlock, n)),
    onlyAirlockFailed: names.filter((n) => ok(direct, n) && !ok(airlock, n)),
    bothFailed: names.filter((n) => !ok(direct, n) && !ok(airlock, n)),
    onlyDirectFailed: names.filter((n) => !ok(direct, n) && ok(airlock, n)),
  };
}

/**
 * The first hunk of each test's diff in a regression.diffs, keyed by test name. Each test's part
 * starts with `diff … expected/<name>.out … results/<name>.out`.
 */
export function firstHunks(diffs: string): Map<string, string> {
  const hunks = new Map<string, string>();
  for (const part of diffs.split(/^(?=diff )/m)) {
    const name = /\/results\/([^/\s]+)\.out/.exec(part.split("\n", 1)[0])?.[1];
    if (!name || hunks.has(name)) continue;
    const lines = part.split("\n");
    const start = lines.findIndex((l) => l.startsWith("@@"));
    if (start < 0) continue;
    const next = lines.findIndex((l, i) => i > start && l.startsWith("@@"));
    const hunk = lines.slice(start, next < 0 ? lines.length : next).filter((l, i, all) => l !== "" || i < all.length - 1);
    const shown = hunk.slice(0, HUNK_LINES).map((l) => (l.length > LINE_CHARS ? `${l.slice(0, LINE_CHARS)}…` : l));
    if (hunk.length > shown.length) shown.push(`… (${hunk.length - shown.length} more lines)`);
    hunks.set(name, shown.join("\n"));
  }
  return hunks;
}

/**
 * Airlock's own refusals (`ERROR:  airlock: …` lines added to a test's output), by test: what
 * Airlock deliberately does not run, as opposed to a difference in the wire.
 */
export function airlockRefusals(diffs: string): Map<string, string[]> {
  const refusals = new Map<string, string[]>();
  for (const part of diffs.split(/^(?=diff )/m)) {
    const name = /\/results\/([^/\s]+)\.out/.exec(part.split("\n", 1)[0])?.[1];
    const found = [...part.matchAll(/^\+ERROR: {2}(airlock: .*)$/gm)].map((m) => m[1]);
    if (name && found.length > 0) refusals.set(name, [...new Set(found)]);
  }
  return refusals;
}

export function formatReport(direct: RegressRun, airlock: RegressRun): { text: string; comparison: Comparison } {
  const c = compare(direct, airlock);
  const hunks = firstHunks(airlock.diffs);
  const refusals = airlockRefusals(airlock.diffs);
  const lines: string[] = [];
  const outcome = (run: RegressRun, name: string) => run.results.get(name) ?? "not run";
  lines.push(`passed both ways (${c.bothPassed.length}):`, ...wrap(c.bothPassed), "");
  lines.push(`failed only through Airlock (${c.onlyAirlockFailed.length}):`);
  for (const name of c.onlyAirlockFailed) {
    lines.push(`  ${name} (${outcome(airlock, name)})`);
    for (const reason of refusals.get(name) ?? []) lines.push(`    refused by Airlock: ${reason}`);
    const hunk = hunks.get(name);
    if (hunk) lines.push(...hunk.split("\n").map((l) => `    ${l}`));
  }
  lines.push("", `failed both ways (${c.bothFailed.length}):`, ...wrap(c.bothFailed.map((n) => `${n} (${outcome(direct, n)})`)));
  if (c.onlyDirectFailed.length > 0) lines.push(`failed only directly (${c.onlyDirectFailed.length}):`, ...wrap(c.onlyDirectFailed));
  for (const [label, run] of [["directly", direct], ["through Airlock", airlock]] as const) {
    if (run.timedOut) lines.push(`the run ${label} timed out: the tests it did not reach count as failed`);
  }
  lines.push("", `${c.passedDirect} of ${c.total} pass directly, ${c.passedAirlock} of ${c.total} through Airlock`);
  return { text: lines.join("\n"), comparison: c };
}

/** Names as indented lines of about 100 characters. */
function wrap(names: string[]): string[] {
  const lines: string[] = [];
  for (const name of names) {
    if (lines.length > 0 && lines[lines.length - 1].length + name.length < 100) lines[lines.length - 1] += ` ${name}`;
    else lines.push(`  ${name}`);
  }
  return lines;
}
