import { MAX_PENDING_RECORDS } from "./activity/recorder";
import fs from "node:fs";
import path from "node:path";
import { DEFAULT_WAITS_PER_AGENT } from "./access/waits";
import { DEFAULT_MAX_PENDING_PER_AGENT } from "./approvals/pending-cap";
import { parseDuration } from "./policy/duration";
import { parsePublicUrl } from "./public-url";

/**
 * A connection that has not logged in after this long is closed. PostgreSQL allows 60 s
 * (authentication_timeout) for people typing passwords; an agent's login is one token check, and
 * 15 s still covers a slow TLS handshake plus a cold JWKS fetch while bounding how long a
 * connection that never logs in holds a slot.
 */
export const DEFAULT_STARTUP_TIMEOUT_MS = 15_000;
/**
 * How long the proxy gives a PostgreSQL target to accept a connection and log Airlock in (TCP,
 * TLS, authentication, ReadyForQuery). Without a bound, a target that accepts TCP and never
 * answers (a black hole, a hung server) kept the agent's connection waiting for ever. 10 s is far
 * above a healthy login (milliseconds) and below the agent's own startup budget.
 */
export const DEFAULT_UPSTREAM_CONNECT_TIMEOUT_MS = 10_000;
/**
 * A logged-in session that sends nothing (no statement running or held) for this long is ended.
 * Longer than connection pools keep idle connections between bursts (usually minutes), short
 * enough that an abandoned session gives back its slot and its database connection.
 */
export const DEFAULT_IDLE_SESSION_TIMEOUT_MS = 10 * 60_000;
/** Sessions one agent may hold: several pools of common default sizes (5–10 each). */
export const DEFAULT_MAX_CONNECTIONS_PER_AGENT = 50;
/**
 * Connections in all, logged in or not. Each session against PostgreSQL uses two file descriptors
 * (agent and database); 400 stays under the common soft limit of 1024 with room for the rest.
 */
export const DEFAULT_MAX_CONNECTIONS = 400;
/** One Query or Parse message: far above hand-written or generated SQL, far below PostgreSQL's 1 GiB. */
export const DEFAULT_MAX_STATEMENT_BYTES = 4 * 1024 * 1024;
/**
 * Bytes the proxy holds for one agent's unfinished messages, over all its connections; also the
 * largest Bind or CopyData it may send. Bounds memory at agents × this, whatever they send.
 */
export const DEFAULT_MAX_BUFFERED_BYTES_PER_AGENT = 64 * 1024 * 1024;

/**
 * Time running statements get to finish at shutdown: longer than most interactive statements,
 * within the 30 s an orchestrator (Kubernetes' terminationGracePeriodSeconds) waits by default.
 */
export const DEFAULT_DRAIN_MS = 30_000;

/** Everything Airlock reads from its environment, resolved once with working defaults. */
export interface AirlockConfig {
  /** Address the dashboard and the proxy bind to. */
  host: string;
  /** Dashboard port; 0 asks the OS for a free one. */
  port: number;
  proxyPort: number;
  /** PEM files for TLS on the proxy; without them agents connect in plain text (use loopback). */
  proxyTls: { certFile: string; keyFile: string } | undefined;
  dataDir: string;
  /** AIRLOCK_STORE_URL: a PostgreSQL database as the store, shared by many instances; unset, the SQLite file in the data dir. */
  storeUrl: string | undefined;
  /**
   * Base URL people and agents use to reach the dashboard (scheme, host, port, and the prefix a
   * proxy serves it under), without a trailing slash; derived from the port when unset.
   */
  publicUrl: string | undefined;
  policyPath: string;
  /** Human SSO; undefined issuer means the built-in development identity provider. */
  oidc: { issuer: string | undefined; clientId: string | undefined; clientSecret: string | undefined };
  /** Agent tokens; defaults to the human issuer (or the development one). */
  agentIssuer: string | undefined;
  agentAudience: string;
  /** OAuth client ids whose tokens are agents' (`client_id`/`azp`); required when agents and people share an issuer. */
  agentClientIds: string[] | undefined;
  /** AGENT_ISSUERS_FILE: more trusted agent token issuers (GitHub Actions, Kubernetes, other IdPs) besides agentIssuer. */
  agentIssuersFile: string | undefined;
  groupsClaim: string;
  /** People's SAML sign-in (lib/identity/saml); off without SAML_IDP_METADATA. */
  saml: SamlConfig | undefined;
  /** Scopes asked of the human IdP; some (Google) reject "groups". */
  oidcScopes: string;
  roleGroups: RoleGroups;
  authSecret: string | undefined;
  /** Slack is on when botToken and signingSecret are set; appToken selects Socket Mode; apiUrl is for tests. */
  slack: { botToken: string | undefined; signingSecret: string | undefined; channel: string | undefined; appToken: string | undefined; apiUrl: string | undefined; userGroups: Record<string, string> };
  /**
   * A session on an embedded (pglite://) database idle in a transaction this long, or keeping the
   * engine from a waiting connection, is ended: every other session on it waits meanwhile.
   */
  pgliteIdleInTransactionTimeoutMs: number;
  /** Long-polls (`?wait=`, MCP wait_for_approval) one agent may hold open at once; more are refused with 429. */
  waitsPerAgent: number;
  /** Requests (held statements and access asked for) one agent may have pending at once; more: 429 or SQLSTATE 53400. */
  maxPendingPerAgent: number;
  /** Audit rows older than `days` are pruned (the chain stays verifiable); the head is signed every `checkpointHours`. */
  /** `maxUnwritten`: records that may wait in memory for a failing store; at that many, statements are refused. */
  audit: { days: number; checkpointHours: number; maxUnwritten: number };
  proxyLimits: ProxyLimits;
  operations: Operations;
}

/** How Airlock is run beside other services: shutdown and metrics. */
export interface Operations {
  /** On SIGTERM/SIGINT, running statements get this long to finish before sessions are ended. */
  drainMs: number;
  /** `/metrics` on a port of its own (0: a free one); undefined: on the dashboard port, behind metricsToken. */
  metricsPort: number | undefined;
  /** Bearer token for `/metrics` on the dashboard port; with neither setting, `/metrics` is not served. */
  metricsToken: string | undefined;
}

/** What one agent, or all of them, may hold of the proxy. */
export interface ProxyLimits {
  startupTimeoutMs: number;
  /** A PostgreSQL target's whole login (connect, TLS, authentication) must finish within this. */
  upstreamConnectTimeoutMs: number;
  /** 0: sessions may stay idle for ever. */
  idleSessionTimeoutMs: number;
  maxConnectionsPerAgent: number;
  maxConnections: number;
  maxStatementBytes: number;
  maxBufferedBytesPerAgent: number;
}

/** SAML_* settings; the ACS and metadata URLs follow AIRLOCK_PUBLIC_URL. */
export interface SamlConfig {
  /** A metadata URL, a metadata file, or `dev` for the development SAML IdP inside Airlock. */
  idpMetadata: string;
  /** Airlock's entity id; unset, its metadata URL. */
  entityId: string | undefined;
  /** PEM files to sign AuthnRequests with (and to publish in Airlock's metadata); both or neither. */
  signing: { keyFile: string; certFile: string } | undefined;
  groupsAttribute: string;
  emailAttribute: string;
  nameAttribute: string;
  /** How the AuthnRequest travels; unset, HTTP-Redirect when the IdP offers it. */
  binding: "redirect" | "post" | undefined;
}

export interface RoleGroups {
  admin: string[];
  approver: string[];
}

type Env = Record<string, string | undefined>;

export class ConfigError extends Error {}

/**
 * SLACK_USER_GROUPS: the Slack user group to mention for each approver group in reminders and
 * escalations, as `group=S0123ABCD` pairs separated by commas (a group's id is in its Slack URL
 * and in usergroups.list). A broken pair stops the start, naming it, rather than mentioning nobody.
 */
function readUserGroups(text: string | undefined): Record<string, string> {
  const groups: Record<string, string> = {};
  for (const pair of (text ?? "").split(",").map((p) => p.trim()).filter(Boolean)) {
    const match = /^([^=\s]+)\s*=\s*(S[A-Z0-9]+)$/.exec(pair);
    if (!match) throw new ConfigError(`SLACK_USER_GROUPS: "${pair}" is not group=S0123ABCD (an approver group, then a Slack user group's id)`);
    groups[match[1]] = match[2];
  }
  return groups;
}

function readStoreUrl(value: string | undefined): string | undefined {
  if (!value) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError("AIRLOCK_STORE_URL must be a URL such as postgres://user:password@host:5432/airlock");
  }
  if (url.protocol !== "postgres:" && url.protocol !== "postgresql:") throw new ConfigError(`AIRLOCK_STORE_URL must be a postgres:// URL (got ${url.protocol}//…); unset, the store is the SQLite file in the data dir`);
  return value;
}

export function loadConfig(env: Env = process.env): AirlockConfig {
  return {
    host: env.AIRLOCK_HOST || "127.0.0.1",
    port: readPort(env, "AIRLOCK_PORT", 3000),
    proxyPort: readPort(env, "AIRLOCK_PROXY_PORT", 6432),
    proxyTls: readTls(env),
    dataDir: path.resolve(env.AIRLOCK_DATA_DIR || "./data"),
    storeUrl: readStoreUrl(env.AIRLOCK_STORE_URL),
    publicUrl: readPublicUrl(env.AIRLOCK_PUBLIC_URL),
    policyPath: path.resolve(env.AIRLOCK_POLICY || "./airlock.policy.yaml"),
    oidc: {
      issuer: env.OIDC_ISSUER ? trimSlash(env.OIDC_ISSUER) : undefined,
      clientId: env.OIDC_CLIENT_ID || undefined,
      clientSecret: env.OIDC_CLIENT_SECRET || undefined,
    },
    agentIssuer: env.AGENT_OIDC_ISSUER ? trimSlash(env.AGENT_OIDC_ISSUER) : undefined,
    agentAudience: env.AGENT_AUDIENCE || "airlock",
    agentClientIds: env.AGENT_CLIENT_IDS ? readList(env.AGENT_CLIENT_IDS, []) : undefined,
    agentIssuersFile: env.AGENT_ISSUERS_FILE ? path.resolve(env.AGENT_ISSUERS_FILE) : undefined,
    groupsClaim: env.OIDC_GROUPS_CLAIM || "groups",
    saml: readSaml(env),
    oidcScopes: env.OIDC_SCOPES || "openid email profile groups",
    roleGroups: {
      admin: readList(env.AIRLOCK_ADMIN_GROUPS, ["airlock-admins"]),
      approver: readList(env.AIRLOCK_APPROVER_GROUPS, ["db-approvers"]),
    },
    authSecret: env.AUTH_SECRET || undefined,
    slack: {
      botToken: env.SLACK_BOT_TOKEN || undefined,
      signingSecret: env.SLACK_SIGNING_SECRET || undefined,
      channel: env.SLACK_CHANNEL || undefined,
      appToken: env.SLACK_APP_TOKEN || undefined,
      apiUrl: env.SLACK_API_URL || undefined,
      userGroups: readUserGroups(env.SLACK_USER_GROUPS),
    },
    pgliteIdleInTransactionTimeoutMs: Math.round(readPositive(env, "AIRLOCK_PGLITE_IDLE_IN_TRANSACTION_TIMEOUT", DEFAULT_PGLITE_IDLE_IN_TRANSACTION_TIMEOUT_S) * 1000),
    waitsPerAgent: readPositive(env, "AIRLOCK_MAX_WAITS_PER_AGENT", DEFAULT_WAITS_PER_AGENT),
    maxPendingPerAgent: readCount(env, "AIRLOCK_MAX_PENDING_PER_AGENT", DEFAULT_MAX_PENDING_PER_AGENT),
    audit: {
      days: readPositive(env, "AIRLOCK_AUDIT_DAYS", 365),
      checkpointHours: readPositive(env, "AIRLOCK_AUDIT_CHECKPOINT_HOURS", 24),
      maxUnwritten: readCount(env, "AIRLOCK_AUDIT_MAX_UNWRITTEN", MAX_PENDING_RECORDS),
    },
    proxyLimits: {
      startupTimeoutMs: readSeconds(env, "AIRLOCK_STARTUP_TIMEOUT", DEFAULT_STARTUP_TIMEOUT_MS, false),
      upstreamConnectTimeoutMs: readSeconds(env, "AIRLOCK_UPSTREAM_CONNECT_TIMEOUT", DEFAULT_UPSTREAM_CONNECT_TIMEOUT_MS, false),
      idleSessionTimeoutMs: readSeconds(env, "AIRLOCK_IDLE_SESSION_TIMEOUT", DEFAULT_IDLE_SESSION_TIMEOUT_MS, true),
      maxConnectionsPerAgent: readCount(env, "AIRLOCK_MAX_CONNECTIONS_PER_AGENT", DEFAULT_MAX_CONNECTIONS_PER_AGENT),
      maxConnections: readCount(env, "AIRLOCK_MAX_CONNECTIONS", DEFAULT_MAX_CONNECTIONS),
      maxStatementBytes: readBytes(env, "AIRLOCK_MAX_STATEMENT_BYTES", DEFAULT_MAX_STATEMENT_BYTES),
      maxBufferedBytesPerAgent: readBytes(env, "AIRLOCK_MAX_BUFFERED_BYTES_PER_AGENT", DEFAULT_MAX_BUFFERED_BYTES_PER_AGENT),
    },
    operations: {
      drainMs: readSeconds(env, "AIRLOCK_DRAIN_SECONDS", DEFAULT_DRAIN_MS, true),
      metricsPort: env.AIRLOCK_METRICS_PORT ? readPort(env, "AIRLOCK_METRICS_PORT", 0) : undefined,
      metricsToken: env.AIRLOCK_METRICS_TOKEN || undefined,
    },
  };
}

/**
 * Seconds. While one session on an embedded database is idle in a transaction, every other one
 * waits: 30 s covers a person typing in psql between statements and bounds how long one agent
 * can stall all the others.
 */
export const DEFAULT_PGLITE_IDLE_IN_TRANSACTION_TIMEOUT_S = 30;

function readPositive(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new ConfigError(`${name} must be a positive number, got "${raw}"`);
  return value;
}

/** Seconds ("15", "0.5") or a duration ("30s", "10m"), in milliseconds; `0` only where it means "off". */
function readSeconds(env: Env, name: string, fallback: number, zeroIsOff: boolean): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === "") return fallback;
  const ms = /^\d+(\.\d+)?$/.test(raw) ? Math.round(Number(raw) * 1000) : parseDuration(raw);
  if (ms === undefined || (ms === 0 && !(zeroIsOff && Number(raw) === 0))) {
    throw new ConfigError(`${name} must be seconds (e.g. 15) or a duration (30s, 10m)${zeroIsOff ? ", or 0 for none" : ""}, got "${raw}"`);
  }
  return ms;
}

function readCount(env: Env, name: string, fallback: number): number {
  const value = readPositive(env, name, fallback);
  if (!Number.isInteger(value)) throw new ConfigError(`${name} must be a whole number, got "${env[name]}"`);
  return value;
}

const BYTE_UNITS: Record<string, number> = { "": 1, B: 1, kB: 1024, MB: 1024 ** 2, GB: 1024 ** 3 };

/** Bytes, plain or with PostgreSQL's units (kB, MB, GB: multiples of 1024). */
function readBytes(env: Env, name: string, fallback: number): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === "") return fallback;
  const match = /^(\d+)\s*(B|kB|MB|GB)?$/.exec(raw);
  const bytes = match ? Number(match[1]) * BYTE_UNITS[match[2] ?? ""] : 0;
  if (bytes <= 0) throw new ConfigError(`${name} must be a number of bytes (e.g. 4194304 or 4MB), got "${raw}"`);
  return bytes;
}

function readPort(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError(`${name} must be a port number from 0 to 65535, got "${raw}"`);
  }
  return port;
}

function readTls(env: Env): AirlockConfig["proxyTls"] {
  const certFile = env.AIRLOCK_PROXY_TLS_CERT;
  const keyFile = env.AIRLOCK_PROXY_TLS_KEY;
  if (!certFile && !keyFile) return undefined;
  if (!certFile || !keyFile) throw new ConfigError("AIRLOCK_PROXY_TLS_CERT and AIRLOCK_PROXY_TLS_KEY go together");
  return { certFile: path.resolve(certFile), keyFile: path.resolve(keyFile) };
}

function readSaml(env: Env): SamlConfig | undefined {
  const idpMetadata = env.SAML_IDP_METADATA?.trim();
  if (!idpMetadata) return undefined;
  const keyFile = env.SAML_SP_KEY_FILE;
  const certFile = env.SAML_SP_CERT_FILE;
  if (!keyFile !== !certFile) throw new ConfigError("SAML_SP_KEY_FILE and SAML_SP_CERT_FILE go together");
  const binding = env.SAML_AUTHN_REQUEST_BINDING || undefined;
  if (binding !== undefined && binding !== "redirect" && binding !== "post") throw new ConfigError(`SAML_AUTHN_REQUEST_BINDING must be redirect or post, got "${binding}"`);
  const isUrl = /^https?:\/\//.test(idpMetadata);
  return {
    idpMetadata: idpMetadata === "dev" || isUrl ? idpMetadata : path.resolve(idpMetadata),
    entityId: env.SAML_SP_ENTITY_ID || undefined,
    signing: keyFile && certFile ? { keyFile: path.resolve(keyFile), certFile: path.resolve(certFile) } : undefined,
    groupsAttribute: env.SAML_GROUPS_ATTRIBUTE || "groups",
    emailAttribute: env.SAML_EMAIL_ATTRIBUTE || "email",
    nameAttribute: env.SAML_NAME_ATTRIBUTE || "name",
    binding,
  };
}

function readPublicUrl(raw: string | undefined): string | undefined {
  if (!raw) return undefined;
  const parsed = parsePublicUrl(raw);
  if (typeof parsed === "string") throw new ConfigError(`AIRLOCK_PUBLIC_URL: ${parsed}`);
  return parsed.href;
}

function readList(raw: string | undefined, fallback: string[]): string[] {
  if (raw === undefined) return fallback;
  return raw.split(",").map((s) => s.trim()).filter(Boolean);
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, "");
}

/** `.env` in the working directory, without overriding what the environment already says. */
export function loadDotEnv(): void {
  if (fs.existsSync(".env")) process.loadEnvFile(".env");
}
