import fs from "node:fs";
import path from "node:path";
import { and, count, desc, eq, gt, isNotNull } from "drizzle-orm";
import { chainStatus, type ChainStatus } from "../audit/chain-status";
import { sharedAuditKey } from "../audit/checkpoints";
import type { AirlockConfig } from "../config";
import type { Store } from "../db/client";
import { redacted } from "../db/postgres-store";
import { InstanceRegistry } from "../events/instances";
import type { Policy, Resource } from "../policy/policy-file";
import type { PolicyStatus } from "../policy/source";
import { slackMode, type SlackMode } from "../slack/settings";
import { webhookStatus, type WebhookFailure, type WebhookStatus } from "../webhooks/delivery-status";
import { boundedCheck, reachability, type Part, type Reachability } from "./checks";

export type { Part, Reachability };

/** What the proxy knows of a resource's catalog, read without reading it (proxy/classifiers.ts). */
export interface CatalogSnapshot {
  /** "not-loaded": no session has needed it since start (an embedded demo is not running either). */
  state: "not-loaded" | "loading" | "loaded";
  /** When the catalog in use was read. */
  loadedAt?: Date;
  /** Past its time, or a schema change came since: the next session (or a background read) reads it again. */
  stale?: boolean;
  refreshing?: boolean;
  /** The last read that failed, until one succeeds. */
  lastError?: { message: string; at: Date };
}

export interface ResourceStatus {
  name: string;
  /** The URL without its password. */
  url: string;
  reach: Reachability;
  catalog: CatalogSnapshot;
}

export interface StoreStatus {
  kind: "sqlite" | "postgres";
  location: string;
  answering: Part<{ tookMs: number }>;
  migrations: Part<{ applied: number; expected?: number; latest?: string; pending: string[] }>;
}

export interface SlackStatus {
  mode: SlackMode;
  channel?: string;
  /** Messages given up on in the last day, the newest few, and those failing but still being retried. */
  failures: Part<{ lastDay: number; retrying: number; recent: Array<{ requestId: string; error: string; at: Date }> }>;
}

export interface InstanceStatus {
  id: string;
  name: string;
  host: string;
  pid: number;
  startedAt: Date;
  lastHeartbeat: Date;
  alive: boolean;
  /** This process, which renders the page. */
  current: boolean;
  sessions: number;
}

export interface OperatorStatus {
  at: Date;
  resources: ResourceStatus[];
  store: StoreStatus;
  slack: SlackStatus;
  /** The policy's webhooks and their deliveries (lib/webhooks). */
  webhooks: Part<{ webhooks: WebhookStatus[]; recentFailures: WebhookFailure[] }>;
  instances: Part<InstanceStatus[]>;
  policy: { file: string; loadedAt: Date; hash: string; rules: number; resources: number; error?: { message: string; at: Date } };
  chain: Part<ChainStatus>;
}

export interface StatusSources {
  store: Store;
  dataDir: string;
  policy: { status: PolicyStatus; current: Policy };
  catalog(resource: Resource): CatalogSnapshot;
  /** Logs in to a PostgreSQL resource and leaves; run at most every REACH_CACHE_MS per resource, bounded. */
  reach(resource: Resource): Promise<void>;
  slack: AirlockConfig["slack"];
  currentInstanceId: string;
  /** The migrations' root (`drizzle/`), to say which are not applied; without it only the applied count shows. */
  migrationsFolder?: string;
  now?: Date;
}

/** A store query (or a chain walk) longer than this is shown as not answering rather than holding the page. */
export const STORE_CHECK_MS = 2000;
export const CHAIN_CHECK_MS = 5000;
const SLACK_RECENT_FAILURES = 5;
const DAY_MS = 24 * 3600_000;

/**
 * What an operator checks first, gathered for the status page. Nothing here starts anything: an
 * embedded resource is not started, the chain is walked only when its kept verdict is old
 * (lib/audit/chain-status.ts), and a resource is logged in to at most every REACH_CACHE_MS.
 */
export async function gatherStatus(src: StatusSources): Promise<OperatorStatus> {
  const now = src.now ?? new Date();
  const { status, current } = src.policy;
  const resources = [...current.resources.values()];
  const [reaches, store, failures, webhooks, instances, chain] = await Promise.all([
    Promise.all(resources.map((r) => reachability(r, src.reach))),
    storeStatus(src),
    boundedCheck(() => slackFailures(src.store, now), STORE_CHECK_MS),
    boundedCheck(() => webhookStatus(src.store, current.notify.webhooks, now), STORE_CHECK_MS),
    boundedCheck(() => instanceList(src.store, src.currentInstanceId, now), STORE_CHECK_MS),
    boundedCheck(async () => chainStatus(src.store, (await sharedAuditKey(src.store, src.dataDir)).publicKeyPem), CHAIN_CHECK_MS),
  ]);
  return {
    at: now,
    resources: resources.map((r, i) => ({ name: r.name, url: redacted(r.url), reach: reaches[i], catalog: src.catalog(r) })),
    store,
    slack: { mode: slackMode(src.slack), channel: src.slack.channel, failures },
    webhooks,
    instances,
    policy: { file: status.file, loadedAt: status.loadedAt, hash: status.hash, rules: current.rules.length, resources: current.resources.size, error: status.error },
    chain,
  };
}

async function storeStatus(src: StatusSources): Promise<StoreStatus> {
  const { store } = src;
  const answering = await boundedCheck(async () => {
    const started = performance.now();
    await store.sql.get("select 1");
    return { tookMs: performance.now() - started };
  }, STORE_CHECK_MS);
  const migrations = await boundedCheck(() => migrationState(store, src.migrationsFolder), STORE_CHECK_MS);
  return { kind: store.dialect, location: store.location, answering, migrations };
}

/**
 * drizzle's migrator keeps one row per migration applied, stamped with the journal's `when`; it
 * applies those newer than the newest row, so those are what is pending.
 */
async function migrationState(store: Store, folder: string | undefined) {
  const table = store.dialect === "postgres" ? "drizzle.__drizzle_migrations" : "__drizzle_migrations";
  const rows = await store.sql.all<{ created_at: string | number }>(`select created_at from ${table}`);
  const newest = Math.max(0, ...rows.map((r) => Number(r.created_at)));
  const journal = folder ? readJournal(store.dialect === "postgres" ? path.join(folder, "postgres") : folder) : undefined;
  return {
    applied: rows.length,
    expected: journal?.length,
    latest: journal?.find((e) => e.when === newest)?.tag,
    pending: (journal ?? []).filter((e) => e.when > newest).map((e) => e.tag),
  };
}

function readJournal(folder: string): Array<{ tag: string; when: number }> | undefined {
  try {
    return (JSON.parse(fs.readFileSync(path.join(folder, "meta", "_journal.json"), "utf8")) as { entries: Array<{ tag: string; when: number }> }).entries;
  } catch {
    return undefined;
  }
}

/** What lib/slack keeps of each request's message: "failed" once its retries are spent, an error while still retrying. */
async function slackFailures(store: Store, now: Date) {
  const { slackMessages: m } = store.tables;
  const failed = and(eq(m.state, "failed"), gt(m.updatedAt, new Date(now.getTime() - DAY_MS)));
  const [[lastDay], [retrying], recent] = await Promise.all([
    store.db.select({ n: count() }).from(m).where(failed),
    store.db.select({ n: count() }).from(m).where(and(eq(m.state, "sending"), isNotNull(m.error))),
    store.db.select({ requestId: m.requestId, error: m.error, at: m.updatedAt }).from(m).where(failed).orderBy(desc(m.updatedAt)).limit(SLACK_RECENT_FAILURES),
  ]);
  return { lastDay: lastDay?.n ?? 0, retrying: retrying?.n ?? 0, recent: recent.map((r) => ({ ...r, error: r.error ?? "no reason kept" })) };
}

/** Every instance row on the store: this one first, then the running, then those gone (pruned a minute after). */
async function instanceList(store: Store, currentId: string, now: Date): Promise<InstanceStatus[]> {
  const rows = await store.db.select().from(store.tables.instances);
  const list = rows.map((r) => ({
    id: r.id,
    name: r.name,
    host: r.host,
    pid: r.pid,
    startedAt: r.startedAt,
    lastHeartbeat: r.seenAt,
    alive: r.id === currentId || InstanceRegistry.alive(r, now.getTime()),
    current: r.id === currentId,
    sessions: sessionCount(r.sessions),
  }));
  const rank = (i: InstanceStatus) => (i.current ? 0 : i.alive ? 1 : 2);
  return list.sort((a, b) => rank(a) - rank(b) || a.name.localeCompare(b.name));
}

function sessionCount(json: string): number {
  try {
    const sessions: unknown = JSON.parse(json);
    return Array.isArray(sessions) ? sessions.length : 0;
  } catch {
    return 0;
  }
}
