/**
 * The proxy under fuzz, in its own process (forked by scripts/fuzz/proxy-process.ts), so that a
 * crash, an unhandled rejection or its memory is its own and not the fuzzer's. It answers the
 * parent over IPC: tokens, figures, shutdown.
 */
import fs from "node:fs";
import { startProxyHarness } from "../../test/support/proxy-harness";
import { startAutoDecider } from "./auto-decider";
import type { ChildReport, ChildRequest } from "./ipc";
import { FUZZ_RULES } from "./policy";
import { Rng } from "./rng";

const { FUZZ_PG_URL, FUZZ_SEED, FUZZ_LOG } = process.env;
const log = fs.createWriteStream(FUZZ_LOG ?? "/dev/null", { flags: "a" });
const faults: string[] = [];
const errorLines = new Map<string, number>();

const report = (message: ChildReport) => process.send?.(message);

process.on("unhandledRejection", (reason) => {
  const text = `unhandled rejection: ${reason instanceof Error ? reason.stack : String(reason)}`;
  faults.push(text);
  report({ type: "fault", text });
});
process.on("uncaughtException", (err) => {
  const text = `uncaught exception: ${err.stack ?? String(err)}`;
  faults.push(text);
  report({ type: "fault", text });
});

// Everything the proxy logs goes to the run's log file; each kind of line is counted.
console.error = (...args: unknown[]) => {
  const text = args.map((a) => (a instanceof Error ? (a.stack ?? a.message) : String(a))).join(" ");
  log.write(`${new Date().toISOString()} ${text}\n`);
  const kind = text.split(/[:\n]/)[0].slice(0, 80);
  errorLines.set(kind, (errorLines.get(kind) ?? 0) + 1);
};
console.log = (...args: unknown[]) => log.write(`${args.map(String).join(" ")}\n`);
console.warn = console.log;

const harness = await startProxyHarness(
  { demo: "pglite://demo", ...(FUZZ_PG_URL ? { pg: FUZZ_PG_URL } : {}) },
  { rules: FUZZ_RULES, env: { AIRLOCK_PGLITE_IDLE_IN_TRANSACTION_TIMEOUT: "10" } },
);

// Every session that logged in must be recorded as started once and ended once.
const started = new Map<string, number>();
const ended = new Map<string, number>();
const { recorder } = harness;
const sessionStarted = recorder.sessionStarted.bind(recorder);
const sessionEnded = recorder.sessionEnded.bind(recorder);
recorder.sessionStarted = (row) => {
  started.set(row.id, (started.get(row.id) ?? 0) + 1);
  sessionStarted(row);
};
recorder.sessionEnded = (id, reason, who) => {
  ended.set(id, (ended.get(id) ?? 0) + 1);
  sessionEnded(id, reason, who);
};

const decider = startAutoDecider(harness.approvals, new Rng(Number(FUZZ_SEED ?? 1)));
const tokens = new Map<string, { token: string; at: number }>();

process.on("message", (request: ChildRequest) => void answer(request));

async function answer(request: ChildRequest): Promise<void> {
  switch (request.type) {
    case "token": {
      // Tokens are reused for a minute: the IdP's client-credentials grant is not what is under test.
      let entry = tokens.get(request.agent);
      if (!entry || Date.now() - entry.at > 60_000) tokens.set(request.agent, (entry = { token: await harness.idp.token(request.agent), at: Date.now() }));
      report({ type: "token", id: request.id, token: entry.token });
      return;
    }
    case "stats": {
      global.gc?.();
      const memory = process.memoryUsage();
      const twice = [...started].filter(([, n]) => n > 1).length + [...ended].filter(([, n]) => n > 1).length;
      report({
        type: "stats",
        id: request.id,
        heapUsed: memory.heapUsed,
        rss: memory.rss,
        external: memory.external,
        liveSessions: harness.live.size,
        connections: harness.proxy.slots.connections,
        sessionsStarted: started.size,
        sessionsEnded: ended.size,
        recordedTwice: twice,
        endedNotStarted: [...ended.keys()].filter((id) => !started.has(id)).length,
        pendingRequests: (await harness.approvals.list("pending", 1000)).length,
        decided: decider.decided(),
        errorLines: Object.fromEntries(errorLines),
        faults: faults.length,
      });
      return;
    }
    case "close":
      decider.stop();
      await harness.close();
      log.end();
      report({ type: "closed", id: request.id });
      setTimeout(() => process.exit(0), 100);
      return;
  }
}

report({ type: "ready", port: harness.proxy.port });
