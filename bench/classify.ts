/**
 * What classification costs per statement, in figures: cold (parse + classify, a cache miss) and
 * cached (a hit), over ~2,000 distinct statements in a mix like an agent's traffic: mostly reads,
 * some writes, transaction control and settings, driver introspection, a few CTEs and DDL.
 * `node --import tsx bench/classify.ts`. Prints figures; it fails only when something breaks.
 */
import os from "node:os";
import { BUILTIN_CATALOG } from "../lib/sql/builtin-catalog";
import { classify, createClassifier } from "../lib/sql/classify";
import { loadSqlParser, parseSql } from "../lib/sql/parser";
import type { Catalog } from "../lib/sql/types";
import { rowFilteredText } from "../lib/decision/row-filters";
import type { Rule } from "../lib/policy/policy-file";
import { compileRowFilter } from "../lib/sql/row-filter";

const STATEMENTS = 2_000;
const COLD_ROUNDS = 5;
const CACHED_ROUNDS = 50;

const CATALOG: Catalog = {
  ...BUILTIN_CATALOG,
  userFunctions: new Set(["audit", "slugify"]),
  views: new Map([["public.customer_emails", ["public.customers"]], ["public.big_orders", ["public.orders", "public.customer_emails"]]]),
};

/** [weight, template]: `i` makes every text distinct, as literals and names do in real traffic. */
const MIX: Array<[number, (i: number) => string]> = [
  [30, (i) => `select id, name, email, country from customers where id = ${i}`],
  [10, (i) => `SELECT o.id, o.total, c.name FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.created_at > now() - interval '${i} days' ORDER BY o.total DESC LIMIT 50`],
  [8, (i) => `select country, count(*), sum(total), avg(total) from orders join customers on customers.id = orders.customer_id where total > ${i} group by country having count(*) > 1`],
  [5, (i) => `select * from big_orders where customer_id in (select id from customers where country = 'C${i}')`],
  [5, (i) => `with recent as (select * from orders where id > ${i}) select r.id, lower(c.email) from recent r join customer_emails c on c.id = r.customer_id`],
  [6, (i) => `insert into orders (customer_id, total, note) values (${i}, ${i}.50, 'note ${i}') returning id`],
  [5, (i) => `update orders set total = total * 1.1, updated_at = now() where id = ${i}`],
  [2, (i) => `delete from refunds where order_id = ${i} and amount < 0`],
  [2, (i) => `insert into orders (id, total) values (${i}, 1) on conflict (id) do update set total = excluded.total`],
  [6, (i) => (i % 2 ? "BEGIN" : "COMMIT") + ` /* ${i} */`],
  [4, (i) => `SET statement_timeout = '${i}ms'`],
  [5, (i) => `select n.nspname, c.relname, a.attname from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace join pg_catalog.pg_attribute a on a.attrelid = c.oid where c.oid = ${i} and a.attnum > 0 and not a.attisdropped`],
  [3, (i) => `select audit(${i}), nextval('ticket_seq')`],
  [3, (i) => `with d as (delete from orders where id = ${i} returning *) insert into archive.orders select * from d`],
  [2, (i) => `select * from orders where id = ${i} for update`],
  [2, (i) => `create index if not exists orders_idx_${i} on orders (customer_id, created_at)`],
  [2, (i) => `explain select * from orders where customer_id = ${i}`],
];

function statements(count: number, offset: number): string[] {
  const total = MIX.reduce((n, [w]) => n + w, 0);
  const out: string[] = [];
  for (const [weight, make] of MIX) {
    const n = Math.round((weight / total) * count);
    for (let k = 0; k < n; k++) out.push(make(offset + out.length));
  }
  // A fixed interleaving, so a run is not one template after another.
  return out.map((s, k) => [s, (k * 7919) % out.length] as const).sort((a, b) => a[1] - b[1]).map(([s]) => s);
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const us = (ms: number) => `${(ms * 1000).toFixed(1)} µs`;

async function main(): Promise<void> {
  console.log(`Airlock SQL classification benchmark — node ${process.version}, ${os.cpus()[0]?.model ?? "unknown CPU"}`);
  await loadSqlParser();
  const texts = statements(STATEMENTS, 0);
  console.log(`${texts.length} distinct statements, ${MIX.length} shapes (plain reads 63%, writes 18%, session 10%, calls and locks 5%, DDL and EXPLAIN 4%)`);

  // Warm the JIT on other texts of the same shapes: "cold" below means a cache miss, not cold code.
  const warm = createClassifier(CATALOG);
  for (const t of statements(STATEMENTS, 1_000_000)) warm.classify(t);

  // Cold: the classifier itself, no cache (parse + walk + judge).
  const coldTimes: number[] = [];
  let parseMs = 0;
  for (let round = 0; round < COLD_ROUNDS; round++) {
    for (const t of texts) {
      const start = performance.now();
      classify(t, CATALOG);
      coldTimes.push(performance.now() - start);
    }
    const parseStart = performance.now();
    for (const t of texts) parseSql(t);
    parseMs += performance.now() - parseStart;
  }
  coldTimes.sort((a, b) => a - b);
  const coldMean = coldTimes.reduce((a, b) => a + b, 0) / coldTimes.length;
  const parseMean = parseMs / (COLD_ROUNDS * texts.length);

  // First sight through the cache: texts that differ only in numbers share an entry.
  const classifier = createClassifier(CATALOG);
  const firstStart = performance.now();
  for (const t of texts) classifier.classify(t);
  const firstMean = (performance.now() - firstStart) / texts.length;
  const first = classifier.stats();

  const cachedStart = performance.now();
  for (let round = 0; round < CACHED_ROUNDS; round++) for (const t of texts) classifier.classify(t);
  const cachedMean = (performance.now() - cachedStart) / (CACHED_ROUNDS * texts.length);

  console.log(`\ncold (no cache: parse + classify), ${COLD_ROUNDS} × ${texts.length}:`);
  console.log(`  mean ${us(coldMean)}   p50 ${us(percentile(coldTimes, 50))}   p99 ${us(percentile(coldTimes, 99))}   max ${us(coldTimes[coldTimes.length - 1])}`);
  console.log(`  of which parsing (libpg-query) ≈ ${us(parseMean)}, walking and judging ≈ ${us(Math.max(0, coldMean - parseMean))}`);
  console.log(`first sight through the cache (${first.misses} misses, ${first.hits} hits: texts differing only in numbers share an entry):`);
  console.log(`  mean ${us(firstMean)}`);
  console.log(`cached (every text seen before), ${CACHED_ROUNDS} × ${texts.length}:`);
  console.log(`  mean ${us(cachedMean)}`);
  const heap = process.memoryUsage().heapUsed / 1024 / 1024;
  console.log(`heap after ${texts.length} cached results: ${heap.toFixed(0)} MB`);
  rowFilterCost(texts);
}

/**
 * What a row filter adds (lib/decision/row-filters.ts): for a rule filtering orders and customers,
 * each statement of the mix that reaches them is rewritten (parse, tokens, edit, parse again and
 * check) or refused; the others pass untouched. Measured after classification, as decide() does.
 */
function rowFilterCost(texts: string[]): void {
  const rule: Rule = {
    name: "bench",
    match: {},
    action: "allow",
    rows: [compileRowFilter("public.orders", "region = 'eu'"), compileRowFilter("public.customers", "country = {{claims.country}}")],
  };
  const values = { agent: "bench-agent", groups: ["agents"], claims: { country: "DE" } };
  const verdicts = texts.map((t) => classify(t, CATALOG).statements.map((statement) => ({ statement, action: "allow" as const, rule, why: "" })));
  // Warmed on other texts of the same shapes; each text below is rewritten for the first time.
  for (const t of statements(texts.length, 2_000_000)) rowFilteredText(classify(t, CATALOG).statements.map((statement) => ({ statement, action: "allow" as const, rule, why: "" })), values, CATALOG);
  const times: number[] = [];
  let rewritten = 0;
  let refused = 0;
  for (let round = 0; round < COLD_ROUNDS; round++) {
    // A new rule object each round: the rewrite cache is per rule, so every round rewrites afresh.
    const fresh = { ...rule, rows: [...rule.rows!] };
    for (const v of verdicts) {
      const own = v.map((s) => ({ ...s, rule: fresh }));
      const start = performance.now();
      const result = rowFilteredText(own, values, CATALOG);
      times.push(performance.now() - start);
      if (round === 0 && !result.ok) refused++;
      else if (round === 0 && result.ok && result.changed) rewritten++;
    }
  }
  const touched = times.filter((_, i) => {
    const v = verdicts[i % verdicts.length];
    return v.some((s) => [...s.statement.reads, ...s.statement.writes].some((t) => t === "public.orders" || t === "public.customers"));
  });
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  touched.sort((a, b) => a - b);
  console.log(`
row filters (orders and customers filtered), ${COLD_ROUNDS} × ${texts.length}: ${rewritten} rewritten, ${refused} refused, ${texts.length - rewritten - refused} untouched`);
  console.log(`  over all statements: mean ${us(mean(times))}`);
  console.log(`  on statements reaching a filtered table: mean ${us(mean(touched))}   p50 ${us(percentile(touched, 50))}   p99 ${us(percentile(touched, 99))}`);
  // Seen before (a Bind after its Parse, a repeated text): the rewrite cache answers.
  const again = performance.now();
  for (let round = 0; round < CACHED_ROUNDS; round++) for (const v of verdicts) rowFilteredText(v, values, CATALOG);
  console.log(`  seen before (cached): mean ${us((performance.now() - again) / (CACHED_ROUNDS * verdicts.length))}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
