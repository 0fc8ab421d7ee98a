import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { and, count, eq, gt, isNull } from "drizzle-orm";
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { RecorderObserver } from "../activity/recorder";
import type { ApprovalObserver } from "../approvals/service";
import type { Store } from "../db/client";
import { statementKind, statementOutcome } from "./statement-outcome";
import { StatementTimes, type StatementTimer } from "./statement-times";

export type { StatementTimer } from "./statement-times";

export const METRICS_PATH = "/metrics";

/** Seconds from a request's opening to its end: people answer in seconds to the policy's timeouts (10 m, 30 m…). */
const DECISION_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 4 * 3600];
/** The recorder writes every 20 ms; a batch waiting far longer means a slow or failing store. */
const LAG_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const BATCH_BUCKETS = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000];

/** Where a Slack call failed: posting a message, or updating one. */
export type SlackMethod = "post" | "update";
/** Work on the store whose failure is counted (audit writes have airlock_audit_write_failures_total). */
export const STORE_OPERATIONS = ["events_read", "events_send", "orphan_sweep", "grants_reload", "readiness"] as const;
export type StoreOperation = (typeof STORE_OPERATIONS)[number];
/** Told when work on the store fails; AirlockMetrics.storeError is one. */
export type StoreErrorObserver = (operation: StoreOperation) => void;

/**
 * Airlock's Prometheus metrics. Labels are bounded on purpose: outcome, kind and channel come
 * from fixed lists, resource from the policy; never SQL text, agents, people or ids.
 */
export class AirlockMetrics {
  readonly registry = new Registry();
  readonly #statements = new Counter({
    name: "airlock_statements_total",
    help: "Agent statements by what became of them (allowed, masked, refused, held, approved, denied, expired, cancelled), their strictest kind and resource.",
    labelNames: ["outcome", "kind", "resource"] as const,
    registers: [this.registry],
    // Counted per statement into #statementTally (a Map increment); added to the series when scraped.
    collect: () => this.#tallyStatements(),
  });
  /** Statements counted since the last scrape, by their labels joined: prom-client hashes a label object per inc, too slow per statement. */
  readonly #statementTally = new Map<string, { labels: { outcome: string; kind: string; resource: string }; n: number }>();
  readonly #decisions = new Counter({
    name: "airlock_decisions_total",
    help: "People's decisions on requests, by where they were made (web, slack) and what they were (approve, deny).",
    labelNames: ["channel", "action"] as const,
    registers: [this.registry],
  });
  readonly #decisionSeconds = new Histogram({
    name: "airlock_time_to_decision_seconds",
    help: "From a request's opening to its end, by how it ended (approved, denied, expired, cancelled).",
    labelNames: ["outcome"] as const,
    buckets: DECISION_BUCKETS,
    registers: [this.registry],
  });
  readonly #batchSize = new Histogram({
    name: "airlock_audit_write_batch_size",
    help: "Records (sessions and statements, with their audit rows) written per batch.",
    buckets: BATCH_BUCKETS,
    registers: [this.registry],
  });
  readonly #batchLag = new Histogram({
    name: "airlock_audit_write_lag_seconds",
    help: "How long the oldest record of a batch waited before it was written.",
    buckets: LAG_BUCKETS,
    registers: [this.registry],
  });
  readonly #writeFailures = new Counter({
    name: "airlock_audit_write_failures_total",
    help: "Batches whose write failed (kept for the next try).",
    registers: [this.registry],
  });
  readonly #statementTimes = new StatementTimes(this.registry);
  readonly #slackFailures = new Counter({
    name: "airlock_slack_delivery_failures_total",
    help: "Failed Slack calls (each attempt), by method (post, update) and what followed (retry, give_up: the message stays failed).",
    labelNames: ["method", "outcome"] as const,
    registers: [this.registry],
  });
  readonly #webhookTries = new Counter({
    name: "airlock_webhook_tries_total",
    help: "Webhook delivery tries by webhook (its name in the policy), event (request.opened…) and outcome: delivered, retry (failed; tried again with backoff), give_up (refused for good, or out of tries; logged).",
    labelNames: ["webhook", "event", "outcome"] as const,
    registers: [this.registry],
  });
  readonly #storeErrors = new Counter({
    name: "airlock_store_errors_total",
    help: "Failed work on the store besides audit writes (airlock_audit_write_failures_total), by operation: events_read (the event bus reading other processes' events, or its listening connection lost), events_send, orphan_sweep (holds of stopped instances), grants_reload, readiness (the probe's select 1).",
    labelNames: ["operation"] as const,
    registers: [this.registry],
  });

  constructor() {
    // Event-loop lag, memory, CPU, handles: prom-client's standard process and Node.js metrics.
    collectDefaultMetrics({ register: this.registry });
    // Gauges named like counters, which promtool's lint rejects; nodejs_active_handles and friends (by type) say the same.
    for (const name of ["nodejs_active_handles_total", "nodejs_active_requests_total", "nodejs_active_resources_total"]) this.registry.removeSingleMetric(name);
    // Zero, not absent, until the first decision: rate() and alerts see the series from the start.
    for (const channel of ["web", "slack"]) for (const action of ["approve", "deny"]) this.#decisions.inc({ channel, action }, 0);
    for (const method of ["post", "update"]) for (const outcome of ["retry", "give_up"]) this.#slackFailures.inc({ method, outcome }, 0);
    for (const operation of STORE_OPERATIONS) this.#storeErrors.inc({ operation }, 0);
  }

  /** Adds the statements counted since the last scrape to the counter (entries stay, at 0: their labels are a small fixed set). */
  #tallyStatements(): void {
    for (const tally of this.#statementTally.values()) {
      if (tally.n === 0) continue;
      this.#statements.inc(tally.labels, tally.n);
      tally.n = 0;
    }
  }

  /** The proxy's statement times for one resource (lib/ops/statement-times.ts): looked up per session, allocation-free per statement. */
  statementTimer(resource: string): StatementTimer {
    return this.#statementTimes.timer(resource);
  }

  /** A Slack call failed; `retrying`: it will be tried again, else it is given up. */
  slackFailed(method: SlackMethod, retrying: boolean): void {
    this.#slackFailures.inc({ method, outcome: retrying ? "retry" : "give_up" });
  }

  /** One webhook delivery try's outcome (lib/webhooks/dispatcher.ts); webhooks are few, named in the policy. */
  readonly webhookTried = (webhook: string, event: string, outcome: "delivered" | "retry" | "give_up"): void => {
    this.#webhookTries.inc({ webhook, event, outcome });
  };

  /** Deliveries waiting, per webhook, read from the store when scraped: every instance's backlog. */
  webhookBacklog(backlog: () => Promise<Array<{ webhook: string; n: number }>>): void {
    new Gauge({
      name: "airlock_webhook_backlog",
      help: "Webhook deliveries not yet made (new, or waiting for a retry), by webhook (in the store: every instance's).",
      labelNames: ["webhook"] as const,
      registers: [this.registry],
      async collect() {
        // A webhook with nothing left, or gone from the policy, drops to no series rather than keeping its last count.
        this.reset();
        for (const { webhook, n } of await backlog()) this.set({ webhook }, n);
      },
    });
  }

  /** Work on the store failed (see STORE_OPERATIONS). */
  readonly storeError: StoreErrorObserver = (operation) => this.#storeErrors.inc({ operation });

  /** Statements and audit writes, as the proxy's recorder sees them. */
  readonly recorder: RecorderObserver = {
    statement: (row) => {
      const outcome = statementOutcome(row);
      const kind = statementKind(row);
      const resource = row.resource ?? "unknown";
      const key = `${outcome}\u0000${kind}\u0000${resource}`;
      const tally = this.#statementTally.get(key);
      if (tally) tally.n++;
      else this.#statementTally.set(key, { labels: { outcome, kind, resource }, n: 1 });
    },
    batch: (records, lagMs, ok) => {
      if (!ok) return this.#writeFailures.inc();
      this.#batchSize.observe(records);
      this.#batchLag.observe(lagMs / 1000);
    },
  };

  /** Decisions and endings made in this process. */
  readonly approvals: ApprovalObserver = {
    decided: (via, action) => this.#decisions.inc({ channel: via, action }),
    ended: (request) => {
      if (request.decidedAt) this.#decisionSeconds.observe({ outcome: request.status }, Math.max(0, request.decidedAt.getTime() - request.createdAt.getTime()) / 1000);
    },
  };

  /** Gauges read when scraped: this process's agent connections; holds pending and grants active in the store. */
  gauges(sources: { store: Store; agentConnections: () => number }): void {
    const { db, tables } = sources.store;
    const { accessRequests, grants } = tables;
    new Gauge({
      name: "airlock_agent_connections",
      help: "Agent sessions open on this process's proxy.",
      registers: [this.registry],
      collect() {
        this.set(sources.agentConnections());
      },
    });
    new Gauge({
      name: "airlock_holds_pending",
      help: "Held statements waiting for people (in the store: every instance's).",
      registers: [this.registry],
      async collect() {
        this.set((await db.select({ n: count() }).from(accessRequests).where(and(eq(accessRequests.status, "pending"), eq(accessRequests.kind, "statement"))))[0]?.n ?? 0);
      },
    });
    new Gauge({
      name: "airlock_grants_active",
      help: "Grants neither expired nor revoked (in the store).",
      registers: [this.registry],
      async collect() {
        this.set((await db.select({ n: count() }).from(grants).where(and(isNull(grants.revokedAt), gt(grants.expiresAt, new Date()))))[0]?.n ?? 0);
      },
    });
  }
}

/**
 * `GET /metrics`. With a token, only a caller presenting it (`Authorization: Bearer …`) is
 * answered; the comparison is constant-time over hashes, so neither content nor length leaks.
 */
export async function serveMetrics(registry: Registry, token: string | undefined, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.writeHead(405, { allow: "GET, HEAD" }).end();
    return;
  }
  if (token !== undefined && !bearerMatches(req.headers.authorization, token)) {
    res.writeHead(401, { "www-authenticate": 'Bearer realm="airlock-metrics"', "content-type": "text/plain" }).end("a bearer token is required\n");
    return;
  }
  const body = await registry.metrics();
  res.writeHead(200, { "content-type": registry.contentType, "cache-control": "no-store" }).end(req.method === "HEAD" ? undefined : body);
}

function bearerMatches(header: string | undefined, token: string): boolean {
  const presented = /^Bearer\s+(.+)$/i.exec(header ?? "")?.[1] ?? "";
  return timingSafeEqual(sha256(presented), sha256(token));
}

function sha256(text: string): Buffer {
  return createHash("sha256").update(text).digest();
}
