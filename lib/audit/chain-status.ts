import type { StoreScope } from "../db/client";
import { verifyChain, type Verdict } from "./verify";

/**
 * Walking the whole chain costs about 10 µs a row (1 s for 100,000) on the event loop the proxy
 * shares (a page at a time, but the sum is the same), so it must not run on every page view. The verdict is kept and shown with its
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

// Per store: tests and tools may hold several. A walk under way is shared by whoever asks meanwhile.
const lastStatus = new WeakMap<StoreScope, ChainStatus>();
const walking = new WeakMap<StoreScope, Promise<ChainStatus>>();

/** The chain's verdict, walked again when the kept one is older than `maxAgeMs`. */
export async function chainStatus(store: StoreScope, publicKeyPem: string, options: { now?: Date; maxAgeMs?: number } = {}): Promise<ChainStatus> {
  const now = options.now ?? new Date();
  const kept = lastStatus.get(store);
  if (kept && now.getTime() - kept.checkedAt.getTime() < (options.maxAgeMs ?? CHAIN_STATUS_MAX_AGE_MS)) return kept;
  let walk = walking.get(store);
  if (!walk) {
    walk = walkChain(store, publicKeyPem, now).finally(() => walking.delete(store));
    walking.set(store, walk);
  }
  return walk;
}

/** Walks the chain now, unless it was walked within the last VERIFY_AGAIN_AFTER_MS. */
export function verifyChainNow(store: StoreScope, publicKeyPem: string, now = new Date()): Promise<ChainStatus> {
  return chainStatus(store, publicKeyPem, { now, maxAgeMs: VERIFY_AGAIN_AFTER_MS });
}

async function walkChain(store: StoreScope, publicKeyPem: string, now: Date): Promise<ChainStatus> {
  const started = performance.now();
  const status = { verdict: await verifyChain(store, publicKeyPem), checkedAt: now, tookMs: performance.now() - started };
  lastStatus.set(store, status);
  return status;
}
