/**
 * Figures for the audit overview, each one GROUP BY over a time range of `audit_log` (the `at`
 * index bounds what is read). Hours and days are UTC, so every viewer sees the same buckets.
 * Bucket sizes are written into the SQL: a bound number arrives as a REAL, and `at / 3600000.0`
 * would not cut time into whole hours.
 */
import type { StoreScope } from "../db/client";
import { jsonArrayElements } from "./json-arrays";

export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

export const STATEMENT_DECISIONS = ["allowed", "masked", "held", "refused"] as const;
export type StatementDecision = (typeof STATEMENT_DECISIONS)[number];

export const REQUEST_OUTCOMES = ["approved", "denied", "expired", "cancelled", "pending"] as const;
export type RequestOutcome = (typeof REQUEST_OUTCOMES)[number];

export interface HourOfStatements {
  /** The hour's start. */
  start: Date;
  counts: Record<StatementDecision, number>;
}

export interface DayOfRequests {
  /** The day's start (00:00 UTC). */
  start: Date;
  /** Requests opened that day, by how they ended (pending: not yet). */
  counts: Record<RequestOutcome, number>;
  /** Median time from opening to the request's final row, of that day's requests that ended. */
  medianDecisionMs: number | null;
}

export interface Ranked {
  name: string;
  count: number;
}

const STATEMENTS_PER_HOUR = `select at / ${HOUR_MS} as bucket, decision, count(*) as n from audit_log where type = 'statement' and at >= ? and at <= ? group by bucket, decision`;

const REQUESTS_PER_DAY = `
  with requests as (
    select o.at / ${DAY_MS} as bucket, coalesce(substr(f.type, 9), 'pending') as outcome, f.at - o.at as ms
    from audit_log o
    left join audit_log f on f.request_id = o.request_id and f.type in ('request.approved', 'request.denied', 'request.expired', 'request.cancelled')
    where o.type = 'request.opened' and o.at >= ? and o.at <= ?
  ),
  ranked as (
    select bucket, ms, row_number() over (partition by bucket order by ms) as rn, count(*) over (partition by bucket) as n
    from requests where ms is not null
  ),
  medians as (
    -- The middle value, or the mean of the two middle ones.
    select bucket, avg(ms) as median from ranked where rn in ((n + 1) / 2, (n + 2) / 2) group by bucket
  )
  select r.bucket, r.outcome, count(*) as n, m.median
  from requests r left join medians m on m.bucket = r.bucket
  group by r.bucket, r.outcome, m.median`;

const TOP_AGENTS = "select agent_id as name, count(*) as count from audit_log where type = 'statement' and at >= ? and at <= ? and agent_id is not null group by agent_id order by count desc, name limit ?";

/** Per dialect: the one query here that reads a JSON array (see json-arrays.ts). */
const TOP_TABLES = {
  sqlite: topTablesSql("sqlite"),
  postgres: topTablesSql("postgres"),
};

/** Statements per hour by decision, for the `hours` hours up to and including the current one. */
export async function statementsPerHour(store: StoreScope, now = new Date(), hours = 24): Promise<HourOfStatements[]> {
  const first = Math.floor(now.getTime() / HOUR_MS) - hours + 1;
  const rows = await store.sql.all<{ bucket: number; decision: string | null; n: number }>(STATEMENTS_PER_HOUR, [first * HOUR_MS, now.getTime()]);
  const buckets = Array.from({ length: hours }, (_, i): HourOfStatements => ({ start: new Date((first + i) * HOUR_MS), counts: zeros(STATEMENT_DECISIONS) }));
  for (const row of rows) {
    const bucket = buckets[row.bucket - first];
    if (bucket && isOneOf(STATEMENT_DECISIONS, row.decision)) bucket.counts[row.decision] += row.n;
  }
  return buckets;
}

/**
 * Requests opened per day by outcome, and the median time to their decision (from
 * `request.opened` to the request's final row: approved, denied, expired or cancelled), for the
 * `days` days up to and including today.
 */
export async function requestsPerDay(store: StoreScope, now = new Date(), days = 14): Promise<DayOfRequests[]> {
  const first = Math.floor(now.getTime() / DAY_MS) - days + 1;
  const rows = await store.sql.all<{ bucket: number; outcome: string; n: number; median: number | null }>(REQUESTS_PER_DAY, [first * DAY_MS, now.getTime()]);
  const buckets = Array.from({ length: days }, (_, i): DayOfRequests => ({ start: new Date((first + i) * DAY_MS), counts: zeros(REQUEST_OUTCOMES), medianDecisionMs: null }));
  for (const row of rows) {
    const bucket = buckets[row.bucket - first];
    if (!bucket) continue;
    if (isOneOf(REQUEST_OUTCOMES, row.outcome)) bucket.counts[row.outcome] += row.n;
    bucket.medianDecisionMs = row.median;
  }
  return buckets;
}

/** The agents that sent the most statements in the last `days` days. */
export function topAgents(store: StoreScope, now = new Date(), days = 7, limit = 8): Promise<Ranked[]> {
  return store.sql.all<Ranked>(TOP_AGENTS, [now.getTime() - days * DAY_MS, now.getTime(), limit]);
}

/** The tables statements touched most in the last `days` days (a statement counts once per table). */
export function topTables(store: StoreScope, now = new Date(), days = 7, limit = 8): Promise<Ranked[]> {
  return store.sql.all<Ranked>(TOP_TABLES[store.dialect], [now.getTime() - days * DAY_MS, now.getTime(), limit]);
}

function topTablesSql(dialect: StoreScope["dialect"]): string {
  return `select t.value as name, count(*) as count
          from audit_log a, ${jsonArrayElements(dialect, "a.tables", "t")}
          where a.type = 'statement' and a.at >= ? and a.at <= ? and a.tables is not null
          group by t.value order by count desc, name limit ?`;
}

function zeros<K extends string>(keys: readonly K[]): Record<K, number> {
  return Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;
}

function isOneOf<K extends string>(keys: readonly K[], value: string | null): value is K {
  return value !== null && (keys as readonly string[]).includes(value);
}
