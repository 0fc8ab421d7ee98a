import type { ActivityRecorder } from "../activity/recorder";
import type { Store } from "../db/client";
import type { PolicyStatus } from "../policy/source";
import type { StoreErrorObserver } from "./metrics";

/** One part's state: "ok", or what is wrong with it, in words for whoever reads the probe. */
export type Check = "ok" | string;

export interface Readiness {
  ready: boolean;
  checks: { store: Check; policy: Check; proxy: Check };
  /** The parts that are not ok, for a quick read of a 503. */
  missing: string[];
}

export interface ReadinessParts {
  store: Pick<Store, "sql">;
  policy: () => PolicyStatus;
  proxy: () => { listening: boolean; draining: boolean };
  /** Told when the store does not answer (`/metrics`). */
  storeError?: StoreErrorObserver;
  /** The audit recorder: its writes failing means the store is down for writes even if reads answer. */
  recorder?: Pick<ActivityRecorder, "failing">;
}

/**
 * Whether this instance should get traffic: the store answers a trivial query and takes the audit
 * trail's writes (a full disk leaves SQLite answering reads only), the policy file
 * as it is now is loaded and valid (an invalid edit keeps the last good policy in force, but an
 * operator must hear of it before rolling on), and the proxy takes connections.
 */
export async function checkReadiness(parts: ReadinessParts): Promise<Readiness> {
  const checks = { store: await storeCheck(parts.store, parts.storeError, parts.recorder), policy: policyCheck(parts.policy()), proxy: proxyCheck(parts.proxy()) };
  const missing = Object.entries(checks)
    .filter(([, check]) => check !== "ok")
    .map(([name]) => name);
  return { ready: missing.length === 0, checks, missing };
}

// The probe is open to anyone: it names what is wrong, never the details (a path, a line of the
// policy), which the log has.

/** A store that takes longer than this to answer `select 1` is not ready (a probe must not hang). */
const STORE_CHECK_MS = 2000;

async function storeCheck(store: Pick<Store, "sql">, storeError?: StoreErrorObserver, recorder?: Pick<ActivityRecorder, "failing">): Promise<Check> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error("timed out")), STORE_CHECK_MS)));
  try {
    await Promise.race([store.sql.get("select 1"), late]);
    // Counted already, as airlock_audit_write_failures_total.
    if (recorder?.failing) return "the store does not take writes (the audit trail is waiting to be written)";
    return "ok";
  } catch {
    storeError?.("readiness");
    return "the store does not answer";
  } finally {
    clearTimeout(timer);
  }
}

function policyCheck(status: PolicyStatus): Check {
  if (status.error) return "the policy file is invalid (the last valid policy is in force; the log says where)";
  return "ok";
}

function proxyCheck(proxy: { listening: boolean; draining: boolean }): Check {
  if (proxy.draining) return "shutting down: new agent connections are refused";
  return proxy.listening ? "ok" : "the proxy is not listening";
}
