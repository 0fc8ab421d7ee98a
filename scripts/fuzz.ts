/**
 * `npm run fuzz`: a structure-aware, seeded, time-bounded fuzzer of the PostgreSQL frontend
 * protocol against the real proxy (on PGlite and on PostgreSQL), then of the policy loader.
 *
 *   npm run fuzz -- [--seed N] [--seconds 60] [--workers 4] [--no-postgres] [--replay INDEX]
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

say(`seed ${seed} (reproduce with --seed ${seed}), ${seconds} s, ${values.workers} workers`);
const temp = makeTempDir("fuzz");
const log = path.join(temp.path, "proxy.log");
let postgres: TestPostgres | undefined;
let failed = false;
try {
  if (!values["no-postgres"]) {
    postgres = await startPostgres();
    // The shop on PostgreSQL too, so the same statements mean the same on both.
    const client = new pg.Client({ connectionString: postgres.url });
    await client.connect();
    await client.query(`${demoSchemaSql()};\n${demoInsertSql().join(";\n")};`);
    await client.end();
  }
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
} finally {
  await postgres?.stop();
}
say(failed ? `findings above; seed ${seed}; the proxy's log: ${log}` : `nothing found; seed ${seed}`);
if (!failed) temp.remove();
process.exit(failed ? 1 : 0);
