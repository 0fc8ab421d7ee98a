/**
 * What masking costs, in figures: a million customer rows (`select * from customers`) streamed
 * through the proxy by node-postgres, once under a rule that masks nothing and once under the
 * shipped `agents-read` mask (its columns and detectors), against one PostgreSQL in one run.
 * `npm run bench:mask`; BENCH_MASK_ROWS sets the table's size (default 1,000,000).
 * Prints figures and the budget; it fails only when something breaks, never on a budget.
 *
 * Both proxies run in this process (the test harness: the real proxy, the development IdP, a
 * store in a temp dir), and so does the agent: its share of the one JavaScript thread is shown
 * by a third run straight to PostgreSQL, the most any proxied run could reach.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { parsePolicy, type MaskOptions } from "../lib/policy/policy-file";
import { startPostgres } from "../test/support/postgres";
import { startProxyHarness, type ProxyHarness } from "../test/support/proxy-harness";
import { createCustomers, rawEmail } from "./support/customers";
import { heading, table, verdict } from "./support/report";
import { streamRows, type StreamedRows } from "./support/stream-rows";
import { runBench } from "./support/run";

const ROWS = Number(process.env.BENCH_MASK_ROWS || 1_000_000);
const RUNS = 3;
const WARM_UP_ROWS = 50_000;
const MIN_RATIO = 0.5;
/** Rows kept from each run, to check what masking did to them. */
const SAMPLES = 200;
const RESOURCE = "shop";
const SQL = "select * from customers";
/** The columns the shipped mask names, in the table's order: masked whole in every row. */
const MASKED_COLUMNS = { email: 2, phone: 3, card_number: 4, ssn: 5 } as const;
/** An email whose local part shows two characters or more: masking leaves one (u***@example.com). */
const UNMASKED_EMAIL = /[^\s*@]{2}@/;
const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** Things to undo, last started first stopped, on success, failure or Ctrl-C alike. */

type Variant = "direct" | "unmasked" | "masked";

async function main(cleanups: Array<() => unknown>): Promise<void> {
  if (!Number.isInteger(ROWS) || ROWS < SAMPLES) throw new Error(`BENCH_MASK_ROWS must be a whole number ≥ ${SAMPLES}, got "${process.env.BENCH_MASK_ROWS}"`);
  console.log(`Airlock masking benchmark — node ${process.version}, ${os.cpus().length} cores, ${os.cpus()[0]?.model ?? "unknown CPU"}`);

  heading(`1. PostgreSQL and ${ROWS.toLocaleString("en")} customers`);
  const postgres = await startPostgres();
  cleanups.push(() => postgres.stop());
  const admin = new pg.Client({ connectionString: postgres.url });
  await admin.connect();
  await admin.query(`create database ${RESOURCE}`);
  await admin.end();
  const shopUrl = postgres.url.replace(/\/postgres$/, `/${RESOURCE}`);
  const filling = performance.now();
  await createCustomers(shopUrl, ROWS);
  console.log(`PostgreSQL on port ${postgres.port}; customers filled and vacuumed in ${((performance.now() - filling) / 1000).toFixed(1)} s`);

  const mask = shippedMask();
  console.log(`shipped mask (agents-read): columns ${mask.columns.join(", ")}; detect ${mask.detect.join(", ")}; strategy ${mask.strategy}`);
  const unmasked = await startHarness(shopUrl, undefined);
  cleanups.push(() => unmasked.close());
  const masked = await startHarness(shopUrl, mask);
  cleanups.push(() => masked.close());
  const urls: Record<Variant, () => Promise<string>> = {
    direct: async () => shopUrl,
    unmasked: () => unmasked.url(RESOURCE),
    masked: () => masked.url(RESOURCE),
  };
  const variants = Object.keys(urls) as Variant[];

  heading(`2. ${SQL}: ${RUNS} runs of each, interleaved, after a warm-up of ${WARM_UP_ROWS.toLocaleString("en")} rows`);
  for (const variant of variants) await streamRows(await urls[variant](), `${SQL} limit ${WARM_UP_ROWS}`, WARM_UP_ROWS);
  const runs: Record<Variant, StreamedRows[]> = { direct: [], unmasked: [], masked: [] };
  for (let run = 1; run <= RUNS; run++) {
    for (const variant of variants) {
      const result = await streamRows(await urls[variant](), SQL, Math.floor(ROWS / SAMPLES));
      if (result.rows !== ROWS) throw new Error(`${variant} run ${run} returned ${result.rows} rows, not ${ROWS}`);
      runs[variant].push(result);
    }
  }
  console.log(table(["run", ...variants], runs.direct.map((_, i) => [String(i + 1), ...variants.map((v) => `${perSecond(runs[v][i])} rows/s`)])));

  heading(`3. Best of ${RUNS}`);
  const best = (variant: Variant) => Math.max(...runs[variant].map(rate));
  const ratio = best("masked") / best("unmasked");
  const line = (variant: Variant, note = "") => `${variant.padEnd(9)} ${ROWS.toLocaleString("en")} rows  ${Math.round(best(variant)).toLocaleString("en").padStart(9)} rows/s${note}`;
  console.log(line("direct", "   (node-postgres straight to PostgreSQL: no proxy)"));
  console.log(line("unmasked"));
  console.log(line("masked", `   ratio ${ratio.toFixed(2)} (budget ≥ ${MIN_RATIO})   ${verdict(ratio >= MIN_RATIO, `masked ≥ ${MIN_RATIO}× unmasked`)}`));

  heading("4. Sanity");
  await reportMaskedCount(masked);
  reportSamples(runs.unmasked.at(-1)!.samples, runs.masked.at(-1)!.samples);
}

/** The mask of the shipped policy's `agents-read` rule, so the benchmark follows the file. */
function shippedMask(): MaskOptions {
  const policy = parsePolicy(fs.readFileSync(path.join(REPO_ROOT, "airlock.policy.yaml"), "utf8"));
  const mask = policy.rules.find((r) => r.name === "agents-read")?.mask;
  if (!mask) throw new Error("airlock.policy.yaml has no agents-read rule with a mask");
  return mask;
}

/** The real proxy with one rule letting agents read `shop`, masking as `mask` says (or not at all). */
async function startHarness(url: string, mask: MaskOptions | undefined): Promise<ProxyHarness> {
  const maskYaml = mask ? `, mask: ${JSON.stringify({ columns: mask.columns, detect: mask.detect, strategy: mask.strategy })}` : "";
  const rules = `rules:\n  - { name: bench-reads, match: { groups: [agents], kinds: [select] }, action: allow${maskYaml} }`;
  return startProxyHarness({ [RESOURCE]: url }, { rules });
}

/** What the proxy recorded of the last masked run: every row's four named columns, masked whole. */
async function reportMaskedCount(harness: ProxyHarness): Promise<void> {
  await harness.recorder.flush();
  const row = await harness.store.sql.get<{ masked: string | null }>("select masked from statements order by id desc limit 1");
  const recorded = row?.masked ? (JSON.parse(row.masked) as { columns: string[]; values: number }) : undefined;
  const expected = ROWS * Object.keys(MASKED_COLUMNS).length;
  const counted = recorded ? `${recorded.values.toLocaleString("en")} values in columns ${recorded.columns.join(", ")}` : "nothing";
  console.log(`recorded as masked in the last masked run: ${counted} (expected ${expected.toLocaleString("en")}: ${Object.keys(MASKED_COLUMNS).join(", ")} of every row)   ${recorded?.values === expected ? "ok" : "UNEXPECTED"}`);
}

/**
 * The sampled rows of the last runs: unmasked ones must carry the raw values, masked ones none of
 * them (the same row by id), nor any email with more than its first character showing.
 */
function reportSamples(plain: string[][], masked: string[][]): void {
  const raw = new Map(plain.map((row) => [row[0], row]));
  const rawOk = plain.every((row) => row[MASKED_COLUMNS.email] === rawEmail(Number(row[0])));
  console.log(`unmasked sample (${plain.length} rows) carries the raw emails: ${rawOk ? "ok" : "NO — the unmasked run was masked"}`);
  const leaks = masked.filter((row) => {
    const original = raw.get(row[0]);
    const sameValue = Object.values(MASKED_COLUMNS).some((i) => row[i] === rawValue(original, i, row[0]));
    return sameValue || row.some((value) => value !== null && UNMASKED_EMAIL.test(value));
  });
  const example = leaks[0] ? ` — e.g. ${JSON.stringify(leaks[0])}` : ` — e.g. ${JSON.stringify(masked[1])}`;
  console.log(`masked sample (${masked.length} rows) holds no raw email, phone, card or SSN: ${leaks.length === 0 ? "ok" : `LEAK in ${leaks.length} rows`}${example}`);
}

/** A masked column's raw value in row `id`: from the unmasked sample, or for email from its formula. */
function rawValue(original: string[] | undefined, column: number, id: string): string | undefined {
  if (original) return original[column];
  return column === MASKED_COLUMNS.email ? rawEmail(Number(id)) : undefined;
}

const rate = (r: StreamedRows) => r.rows / r.seconds;
const perSecond = (r: StreamedRows) => Math.round(rate(r)).toLocaleString("en");

runBench(main);
