/**
 * `npm run fuzz`: a structure-aware, seeded, time-bounded fuzzer of the PostgreSQL frontend
 * protocol against the real proxy (on PGlite and on PostgreSQL), then of the policy loader, then
 * of the JSON bodies of the agent API, the MCP endpoint and the Slack route (scripts/fuzz/http-run.ts).
 *
 *   npm run fuzz -- [--seed N] [--seconds 60] [--workers 4] [--no-postgres] [--replay INDEX]
 *                   [--http-seconds 30] [--http-only] [--replay-http INDEX] [--send-http INDEX,INDEX…]
 *
 * `--replay-http` prints an HTTP case; `--send-http` sends those cases of the seed, one by one, to a
 * fresh Airlock and prints each answer.
 *
 * The same seed makes the same sessions (their timing is the machine's). Exit status 1 when
 * anything was found; every finding is printed with its seed, session and message sequence.
 */
import path from "node:path";
import { parseArgs } from "node:util";
import pg from "pg";
import { demoInsertSql, demoSchemaSql } from "../lib/demo/seed-sql";
import { startPostgres, type TestPostgres } from "../test/support/postgres";
import { makeTempDir } from "../test/support/temp-dir";
import { describeCase } from "./fuzz/case";
import { generateCase } from "./fuzz/generate";
import { fuzzPolicy } from "./fuzz/policy-fuzz";
import { printHttpReport, replayHttpCase, runHttpFuzz } from "./fuzz/http-run";
import { printWireReport } from "./fuzz/report";
import { Rng, randomSeed } from "./fuzz/rng";
import { runWireFuzz } from "./fuzz/wire-run";

const { values } = parseArgs({
  options: {
    seed: { type: "string" },
    seconds: { type: "string", default: "60" },
    workers: { type: "string", default: "4" },
    "no-postgres": { type: "boolean", default: false },
    replay: { type: "string" },
    "stuck-after": { type: "string", default: "40" },
    "http-seconds": { type: "string", default: "30" },
    "http-only": { type: "boolean", default: false },
    "replay-http": { type: "string" },
    "send-http": { type: "string" },
  },
});

const seed = values.seed !== undefined ? Number(values.seed) >>> 0 : randomSeed();
const seconds = Number(values.seconds);
const say = (line: string) => console.log(`[fuzz] ${line}`);

if (values.replay !== undefined) {
  // Prints the case a seed and index make, to read it or replay it by hand.
  console.log(describeCase(generateCase(seed, Number(values.replay), values["no-postgres"] ? ["demo"] : ["demo", "pg"])));
  process.exit(0);
}

if (values["replay-http"] !== undefined) {
  // Tokens and the sentinel's id are placeholders here; a finding prints the case as it was sent.
  console.log(replayHttpCase(seed, Number(values["replay-http"])));
  process.exit(0);
}

const httpSeconds = values["send-http"] !== undefined ? 1 : Number(values["http-seconds"]);
say(`seed ${seed} (reproduce with --seed ${seed}), ${values["http-only"] || values["send-http"] !== undefined ? "no" : seconds} s on the wire and the policy loader (${values.workers} workers), ${httpSeconds} s of HTTP bodies`);
const temp = makeTempDir("fuzz");
const log = path.join(temp.path, "proxy.log");
let postgres: TestPostgres | undefined;
let failed = false;
try {
  const httpOnly = values["http-only"] || values["send-http"] !== undefined;
  if (!values["no-postgres"] && !httpOnly) {
    postgres = await startPostgres();
    // The shop on PostgreSQL too, so the same statements mean the same on both.
    const client = new pg.Client({ connectionString: postgres.url });
    await client.connect();
    await client.query(`${demoSchemaSql()};\n${demoInsertSql().join(";\n")};`);
    await client.end();
  }
  if (!httpOnly) failed = await fuzzWireAndPolicy();
  if (httpSeconds > 0) {
    const indices = values["send-http"]?.split(",").map(Number);
    const http = await runHttpFuzz({ seed, seconds: httpSeconds, say, indices });
    failed = printHttpReport(http, seed) || failed;
  }
} finally {
  await postgres?.stop();
}
say(failed ? `findings above; seed ${seed}; the proxy's log: ${log}` : `nothing found; seed ${seed}`);
if (!failed) temp.remove();
process.exit(failed ? 1 : 0);

async function fuzzWireAndPolicy(): Promise<boolean> {
  let failed = false;
  // Most of the time on the wire; the policy loader's fuzz is quick.
  const wireSeconds = Math.max(10, Math.round(seconds * 0.9));
  const wire = await runWireFuzz({
    seed,
    seconds: wireSeconds,
    workers: Number(values.workers),
    resources: postgres ? ["demo", "pg"] : ["demo"],
    pgUrl: postgres?.url,
    log,
    stuckAfterMs: Number(values["stuck-after"]) * 1000,
    say,
  });
  failed = printWireReport(wire, seed, log) || failed;

  const policy = fuzzPolicy(new Rng(seed), Date.now() + Math.max(3, seconds - wireSeconds) * 1000);
  say(`policy loader: ${policy.iterations} mutated documents, ${policy.loaded} loaded, ${policy.refused} refused with a PolicyError, ${policy.failures.size} other errors`);
  for (const f of policy.failures.values()) {
    failed = true;
    console.log(`\nFINDING policy loader (${f.count}×, seed ${seed}): ${f.error}\n--- document ---\n${f.text.slice(0, 3000)}\n---`);
  }
  return failed;
}
