/**
 * DDL-heavy work, directly and through Airlock: the shape of a migration run or of PostgreSQL's
 * own regression suite — files of CREATE/ALTER/DROP, temporary tables, views, PL/pgSQL and the
 * queries between them, each file a fresh psql session, a few files at a time. Prints the time
 * of each path and Airlock's ratio to direct (budget ≤ 1.5×), and the proxy's CPU.
 * `npm run bench:ddl`; BENCH_DDL_FILES (default 24), BENCH_DDL_ROUNDS per file (default 8),
 * BENCH_DDL_PARALLEL sessions at a time (default 4) and BENCH_DDL_RUNS of each path (default 3)
 * size it.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { findPostgresBin } from "../scripts/postgres-bin.mjs";
import { startTestIdp } from "../test/support/dev-idp";
import { startPostgres } from "../test/support/postgres";
import { makeTempDir } from "../test/support/temp-dir";
import { readTreeCpu } from "./support/cpu";
import type { Target } from "./support/pgbench";
import { startProxyChild } from "./support/proxy-child";
import { heading, table, verdict } from "./support/report";
import { runBench } from "./support/run";

const FILES = Number(process.env.BENCH_DDL_FILES || 24);
const ROUNDS = Number(process.env.BENCH_DDL_ROUNDS || 8);
const PARALLEL = Number(process.env.BENCH_DDL_PARALLEL || 4);
const RUNS = Number(process.env.BENCH_DDL_RUNS || 3);
const AGENT = "ops-agent";
const RESOURCE = "ddlbench";
const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const BUDGET = 1.5;
/** Extra node flags for the proxy child, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" to profile it. */
const nodeArgs = (process.env.BENCH_PROXY_NODE_ARGS ?? "").split(" ").filter(Boolean);

/** One file: rounds of schema changes, each followed by the statements that use what changed. */
export function ddlScript(file: number, rounds: number): string {
  const lines: string[] = [];
  for (let r = 0; r < rounds; r++) {
    const n = `${file}_${r}`;
    lines.push(
      `create table t${n} (id int primary key, name text not null, created timestamptz default now());`,
      `insert into t${n} (id, name) select g, 'name ' || g from generate_series(1, 200) g;`,
      `create index t${n}_name on t${n} (name);`,
      `create view v${n} as select id, upper(name) as name from t${n} where id % 2 = 0;`,
      `select count(*) from v${n};`,
      `alter table t${n} add column extra int;`,
      `update t${n} set extra = id * 2 where id < 50;`,
      `create temp table tmp${n} as select id, name from t${n} where id < 20;`,
      `select id, name from tmp${n} order by id limit 5;`,
      `create function f${n}(x int) returns int language plpgsql as $$ begin return x * 2; end $$;`,
      `select f${n}(21);`,
      `do $$ begin perform count(*) from t${n}; end $$;`,
      `begin;`,
      `create table u${n} (x int);`,
      `insert into u${n} values (1), (2);`,
      `select sum(x) from u${n};`,
      `rollback;`,
      `select t.id, v.name from t${n} t join v${n} v using (id) where t.extra is not null order by t.id limit 3;`,
      `drop view v${n};`,
      `drop function f${n}(int);`,
      `drop table t${n};`,
      `drop table tmp${n};`,
    );
  }
  return lines.join("\n") + "\n";
}

/** Runs one file through psql (no psqlrc, stop at the first error, as pg_regress does not but a migration does). */
function psql(target: Target, file: string): Promise<void> {
  const bin = findPostgresBin();
  if (!bin) throw new Error("PostgreSQL binaries not found under /usr/lib/postgresql: run `npm test` once (its pretest installs them)");
  const child = spawn(path.join(bin, "psql"), ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", target.host, "-p", String(target.port), "-U", target.user, "-d", target.database, "-f", file], {
    env: { ...process.env, PGPASSWORD: target.password, PGSSLMODE: "disable", PGGSSENCMODE: "disable" },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let errors = "";
  child.stderr.on("data", (chunk: Buffer) => (errors += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => (code === 0 ? resolve() : reject(new Error(`psql -f ${path.basename(file)} failed (exit ${code}):\n${errors}`))));
  });
}

/** Every file, PARALLEL sessions at a time; the wall time in seconds. */
async function runAll(target: Target, files: string[]): Promise<number> {
  const began = performance.now();
  const queue = [...files];
  await Promise.all(
    Array.from({ length: PARALLEL }, async () => {
      for (let file = queue.shift(); file; file = queue.shift()) await psql(target, file);
    }),
  );
  return (performance.now() - began) / 1000;
}

async function main(cleanups: Array<() => unknown>): Promise<void> {
  for (const [name, value] of Object.entries({ FILES, ROUNDS, PARALLEL, RUNS })) {
    if (!Number.isInteger(value) || value < 1) throw new Error(`BENCH_DDL_${name} must be a whole number ≥ 1, got ${value}`);
  }
  const postgres = await startPostgres();
  cleanups.push(() => postgres.stop());
  const admin = new pg.Client({ connectionString: postgres.url });
  await admin.connect();
  await admin.query(`create database ${RESOURCE}`);
  await admin.end();
  const url = postgres.url.replace(/\/postgres$/, `/${RESOURCE}`);
  const direct: Target = { host: "127.0.0.1", port: postgres.port, user: postgres.user, password: postgres.password, database: RESOURCE };

  const dir = makeTempDir("bench-ddl");
  cleanups.push(() => dir.remove());
  const files = Array.from({ length: FILES }, (_, i) => {
    const file = path.join(dir.path, `ddl-${i}.sql`);
    fs.writeFileSync(file, ddlScript(i, ROUNDS));
    return file;
  });
  const statements = FILES * ROUNDS * ddlScript(0, 1).trim().split("\n").length;

  const idp = await startTestIdp();
  cleanups.push(() => idp.close());
  const proxy = await startProxyChild({ repoRoot: REPO_ROOT, dataDir: dir.path, policy: allowAll(url), agentIssuer: idp.issuer, nodeArgs });
  cleanups.push(() => proxy.stop());
  const proxied: Target = { host: "127.0.0.1", port: proxy.port, user: AGENT, password: await idp.token(AGENT), database: RESOURCE };

  heading(`DDL-heavy files: ${FILES} files × ${ROUNDS} rounds (${statements} statements), ${PARALLEL} psql sessions at a time`);
  // A first pass each warms caches (PostgreSQL's, the proxy's catalog and JIT) and is not counted.
  await runAll(direct, files.slice(0, PARALLEL));
  await runAll(proxied, files.slice(0, PARALLEL));
  // Then the two paths in turn, RUNS times each: one run's wall time swings with the machine
  // (PostgreSQL's own background work), so the median is compared.
  const directRuns: number[] = [];
  const airlockRuns: number[] = [];
  let [user, system] = [0, 0];
  for (let run = 0; run < RUNS; run++) {
    directRuns.push(await runAll(direct, files));
    const before = readTreeCpu(proxy.pid);
    airlockRuns.push(await runAll(proxied, files));
    const after = readTreeCpu(proxy.pid);
    user += after.user - before.user;
    system += after.system - before.system;
  }
  const perStatement = (seconds: number) => `${((seconds / (statements * RUNS)) * 1e6).toFixed(0)} µs`;
  const [directSeconds, airlockSeconds] = [median(directRuns), median(airlockRuns)];
  const runs = (times: number[]) => times.map((t) => t.toFixed(2)).join(", ");

  const ratio = airlockSeconds / directSeconds;
  console.log(
    table(
      ["path", "median wall time", "runs (s)", "statements/s", "proxy CPU/stmt", "of it in the kernel"],
      [
        ["direct", `${directSeconds.toFixed(2)} s`, runs(directRuns), (statements / directSeconds).toFixed(0), "", ""],
        ["Airlock", `${airlockSeconds.toFixed(2)} s`, runs(airlockRuns), (statements / airlockSeconds).toFixed(0), perStatement(user + system), perStatement(system)],
      ],
    ),
  );
  console.log(`\nAirlock ÷ direct: ${ratio.toFixed(2)}× — ${verdict(ratio <= BUDGET, `≤ ${BUDGET}×`)}`);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Everything allowed for the one agent: the figure is the proxy's cost, not a policy's. */
function allowAll(url: string): string {
  return [
    "resources:",
    `  ${RESOURCE}: { type: postgres, url: ${JSON.stringify(url)} }`,
    "rules:",
    `  - { name: migrations, match: { agents: [${AGENT}] }, action: allow }`,
    "",
  ].join("\n");
}

runBench(main);
