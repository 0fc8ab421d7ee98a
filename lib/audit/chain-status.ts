import type { Db } from "../db/client";
import { verifyChain, type Verdict } from "./verify";

/**
 * Walking the whole chain costs about 10 µs a row (1 s for 100,000) and runs on the event loop
 * the proxy shares, so it must not run on every page view. The verdict is kept and shown with its
 * age; a view walks again only when it is older than this, or when someone asks (at most every
 * VERIFY_AGAIN_AFTER_MS, so a held-down button cannot stall the proxy).
 */
export const CHAIN_STATUS_MAX_AGE_MS = 10 * 60_000;
export const VERIFY_AGAIN_AFTER_MS = 10_000;

export interface ChainStatus {
  verdict: Verdict;
  checkedAt: Date;
  tookMs: number;
}

// Per store: tests and tools may hold several.
const lastStatus = new WeakMap<Db, ChainStatus>();

/** The chain's verdict, walked again when the kept one is older than `maxAgeMs`. */
export function chainStatus(db: Db, publicKeyPem: string, options: { now?: Date; maxAgeMs?: number } = {}): ChainStatus {
  const now = options.now ?? new Date();
  const kept = lastStatus.get(db);
  if (kept && now.getTime() - kept.checkedAt.getTime() < (options.maxAgeMs ?? CHAIN_STATUS_MAX_AGE_MS)) return kept;
  const started = performance.now();
  const status = { verdict: verifyChain(db, publicKeyPem), checkedAt: now, tookMs: performance.now() - started };
  lastStatus.set(db, status);
  return status;
}

/** Walks the chain now, unless it was walked within the last VERIFY_AGAIN_AFTER_MS. */
export function verifyChainNow(db: Db, publicKeyPem: string, now = new Date()): ChainStatus {
  return chainStatus(db, publicKeyPem, { now, maxAgeMs: VERIFY_AGAIN_AFTER_MS });
}
