import fs from "node:fs";
import path from "node:path";
import { DEFAULT_WAITS_PER_AGENT } from "./access/waits";

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
  /** Base URL people and agents use to reach the dashboard; derived from the port when unset. */
  publicUrl: string | undefined;
  policyPath: string;
  /** Human SSO; undefined issuer means the built-in development identity provider. */
  oidc: { issuer: string | undefined; clientId: string | undefined; clientSecret: string | undefined };
  /** Agent tokens; defaults to the human issuer (or the development one). */
  agentIssuer: string | undefined;
  agentAudience: string;
  groupsClaim: string;
  /** Scopes asked of the human IdP; some (Google) reject "groups". */
  oidcScopes: string;
  roleGroups: RoleGroups;
  authSecret: string | undefined;
  /** Slack is on when botToken and signingSecret are set; appToken selects Socket Mode; apiUrl is for tests. */
  slack: { botToken: string | undefined; signingSecret: string | undefined; channel: string | undefined; appToken: string | undefined; apiUrl: string | undefined };
  /** Long-polls (`?wait=`, MCP wait_for_approval) one agent may hold open at once; more are refused with 429. */
  waitsPerAgent: number;
  /** Audit rows older than `days` are pruned (the chain stays verifiable); the head is signed every `checkpointHours`. */
  audit: { days: number; checkpointHours: number };
}

export interface RoleGroups {
  admin: string[];
  approver: string[];
}

type Env = Record<string, string | undefined>;

export class ConfigError extends Error {}

export function loadConfig(env: Env = process.env): AirlockConfig {
  return {
    host: env.AIRLOCK_HOST || "127.0.0.1",
    port: readPort(env, "AIRLOCK_PORT", 3000),
    proxyPort: readPort(env, "AIRLOCK_PROXY_PORT", 6432),
    proxyTls: readTls(env),
    dataDir: path.resolve(env.AIRLOCK_DATA_DIR || "./data"),
    publicUrl: env.AIRLOCK_PUBLIC_URL ? trimSlash(env.AIRLOCK_PUBLIC_URL) : undefined,
    policyPath: path.resolve(env.AIRLOCK_POLICY || "./airlock.policy.yaml"),
    oidc: {
      issuer: env.OIDC_ISSUER ? trimSlash(env.OIDC_ISSUER) : undefined,
      clientId: env.OIDC_CLIENT_ID || undefined,
      clientSecret: env.OIDC_CLIENT_SECRET || undefined,
    },
    agentIssuer: env.AGENT_OIDC_ISSUER ? trimSlash(env.AGENT_OIDC_ISSUER) : undefined,
    agentAudience: env.AGENT_AUDIENCE || "airlock",
    groupsClaim: env.OIDC_GROUPS_CLAIM || "groups",
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
    },
    waitsPerAgent: readPositive(env, "AIRLOCK_MAX_WAITS_PER_AGENT", DEFAULT_WAITS_PER_AGENT),
    audit: {
      days: readPositive(env, "AIRLOCK_AUDIT_DAYS", 365),
      checkpointHours: readPositive(env, "AIRLOCK_AUDIT_CHECKPOINT_HOURS", 24),
    },
  };
}

function readPositive(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new ConfigError(`${name} must be a positive number, got "${raw}"`);
  return value;
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
