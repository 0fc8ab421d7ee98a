/**
 * The wire fuzz: the proxy in its own process on PGlite and PostgreSQL, healthy clients timed
 * before and during, fuzz workers playing generated cases until the time is up, then the checks
 * that need the whole run (sessions closed and logged once, memory back, latency, faults).
 */
import { Findings } from "./findings";
import { AGENTS, generateCase } from "./generate";
import { HealthyClient, percentile } from "./healthy";
import type { ProxyStats } from "./ipc";
import type { FuzzCase } from "./case";
import { minimize } from "./minimize";
import { sameFault } from "./findings";
import { ProxyProcess } from "./proxy-process";
import { runCase, type CaseOutcome, type RunContext } from "./run-case";

export interface WireRunOptions {
  seed: number;
  seconds: number;
  workers: number;
  resources: ReadonlyArray<FuzzCase["resource"]>;
  pgUrl?: string;
  log: string;
  stuckAfterMs: number;
  say(line: string): void;
}

export interface LatencyFigure {
  resource: string;
  baselineP99: number;
  fuzzP99: number;
  baselineCount: number;
  fuzzCount: number;
}

export interface WireRunResult {
  findings: Findings;
  sessions: number;
  loggedIn: number;
  messages: number;
  codes: Map<string, number>;
  latency: LatencyFigure[];
  before: ProxyStats;
  after: ProxyStats;
}

const MB = 1024 * 1024;
/** "Near its baseline": the heap after the run, garbage collected, within this of before. */
const MEMORY_SLACK = { ratio: 1.25, bytes: 16 * MB };

export async function runWireFuzz(o: WireRunOptions): Promise<WireRunResult> {
  const findings = new Findings();
  const proxy = await ProxyProcess.start({ pgUrl: o.pgUrl, seed: o.seed, log: o.log });
  await proxy.refreshTokens(AGENTS);
  const tokenTimer = setInterval(() => void proxy.refreshTokens(AGENTS).catch(() => undefined), 45_000);
  const ctx: RunContext = { port: proxy.port, token: (agent) => proxy.token(agent), stuckAfterMs: o.stuckAfterMs };
  try {
    const healthy = await Promise.all(o.resources.map((r) => HealthyClient.connect(proxy.port, r, "reporting-agent", proxy.token("reporting-agent"))));
    healthy.forEach((h) => h.start());
    const baselineSeconds = Math.min(15, Math.max(5, o.seconds / 8));
    o.say(`baseline: ${baselineSeconds} s of the healthy client alone`);
    await sleep(2000);
    healthy.forEach((h) => h.takeSamples());
    await sleep(baselineSeconds * 1000);
    const baseline = healthy.map((h) => h.takeSamples());
    const before = await proxy.stats();

    const codes = new Map<string, number>();
    let next = 0;
    let sessions = 0;
    let loggedIn = 0;
    let messages = 0;
    const deadline = Date.now() + o.seconds * 1000;
    const worker = async () => {
      while (Date.now() < deadline && !proxy.exit) {
        const c = generateCase(o.seed, next++, o.resources);
        const outcome = await guarded(c, ctx);
        sessions++;
        messages += c.steps.length;
        if (outcome.loggedIn) loggedIn++;
        for (const code of outcome.codes) codes.set(code, (codes.get(code) ?? 0) + 1);
        findings.fromOutcome(c, outcome);
        if (outcome.internalErrors.length || outcome.stuck || outcome.malformed) o.say(`finding in session ${c.index}: ${outcome.internalErrors[0] ?? outcome.stuck ?? outcome.malformed}`);
      }
    };
    const progress = setInterval(() => o.say(`… ${sessions} sessions, ${loggedIn} logged in, ${findings.all.length} findings`), 30_000);
    await Promise.all(Array.from({ length: o.workers }, worker));
    clearInterval(progress);
    const during = healthy.map((h) => h.takeSamples());

    // Shrink what was found while the proxy is still up.
    for (const finding of findings.all.filter((f) => f.case)) {
      const original = finding.case!;
      const shrunk = await minimize(original, async (candidate) => sameFault(finding, await guarded(candidate, ctx)), { tries: 40, ms: 90_000 });
      finding.case = shrunk.case;
      o.say(`minimized ${finding.kind} from ${original.steps.length} to ${shrunk.case.steps.length} steps in ${shrunk.tries} tries`);
    }

    // Every fuzz connection gone: only the healthy clients' sessions remain.
    const settled = await waitFor(async () => {
      const s = await proxy.stats();
      return s.connections === healthy.length && s.liveSessions === healthy.length;
    }, 30_000);
    if (!settled) {
      const s = await proxy.stats();
      findings.add("sessions left open", `30 s after the fuzz ended the proxy still counts ${s.connections} connections and ${s.liveSessions} live sessions (expected ${healthy.length}: the healthy clients)`);
    }
    await sleep(1000);
    const after = await proxy.stats();
    checkAfter(findings, before, after, healthy.length);
    const latency = healthy.map((h, i) => ({ resource: h.resource, baselineP99: percentile(baseline[i], 99), fuzzP99: percentile(during[i], 99), baselineCount: baseline[i].length, fuzzCount: during[i].length }));
    for (const l of latency) {
      if (l.fuzzP99 > 2 * l.baselineP99) findings.add("latency", `healthy client on ${l.resource}: p99 ${l.fuzzP99.toFixed(1)} ms during the fuzz, baseline ${l.baselineP99.toFixed(1)} ms (over 2×)`);
    }
    for (const h of healthy) for (const e of h.errors) findings.add("healthy client", `on ${h.resource}: ${e}`);
    await Promise.all(healthy.map((h) => h.stop()));
    for (const fault of proxy.faults) findings.add("proxy fault", fault);
    if (proxy.exit) findings.add("proxy crash", `the proxy process exited ${JSON.stringify(proxy.exit)}:\n${proxy.stderr().slice(-4000)}`);
    return { findings, sessions, loggedIn, messages, codes, latency, before, after };
  } finally {
    clearInterval(tokenTimer);
    await proxy.close();
  }
}

function checkAfter(findings: Findings, before: ProxyStats, after: ProxyStats, open: number): void {
  if (after.heapUsed > before.heapUsed * MEMORY_SLACK.ratio + MEMORY_SLACK.bytes) {
    findings.add("memory", `proxy heap ${(after.heapUsed / MB).toFixed(1)} MB after the run (gc'd), ${(before.heapUsed / MB).toFixed(1)} MB before`);
  }
  if (after.recordedTwice > 0) findings.add("logging", `${after.recordedTwice} sessions recorded as started or ended more than once`);
  if (after.endedNotStarted > 0) findings.add("logging", `${after.endedNotStarted} sessions recorded as ended but never started`);
  if (after.sessionsStarted - after.sessionsEnded !== open) findings.add("logging", `${after.sessionsStarted} sessions recorded as started, ${after.sessionsEnded} as ended, ${open} still open`);
}

/** A case with an outer bound, in case a wait inside it is longer than it should be. */
async function guarded(c: FuzzCase, ctx: RunContext): Promise<CaseOutcome> {
  const limit = ctx.stuckAfterMs + 90_000;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<CaseOutcome>((resolve) => {
    timer = setTimeout(() => resolve({ loggedIn: false, internalErrors: [], stuck: `the case did not finish within ${limit} ms`, codes: [], framingLie: false }), limit);
  });
  try {
    return await Promise.race([runCase(c, ctx), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(test: () => Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await test()) return true;
    await sleep(250);
  }
  return test();
}
