import { and, eq, isNull, type SQL } from "drizzle-orm";
import type { SQLiteColumn } from "drizzle-orm/sqlite-core";

/** A Slack call that hangs counts as failed (and is retried) after this long. */
export const CALL_TIMEOUT_MS = 10_000;

/**
 * Several instances hear every change to a request, and each could call Slack about it. Two calls
 * about one message at once could land in either order, so a message could go back to an older
 * state, and two first posts would be two messages. So one instance at a time holds a message (or
 * a summary) while it calls Slack: its row's `updated_at` is then set in the future, to when the
 * hold ends, and every write to the row compares the version it read (`updated_at` and `ts`), so a
 * claim made by two instances at once is won by one. Whoever finds a row held leaves it: the
 * holder reads the request again after its call and shows any change made meanwhile.
 *
 * A hold outlasts one call (CALL_TIMEOUT_MS) with room for clocks a few seconds apart, and ends
 * by itself when its instance dies: then another instance takes the message over.
 */
export const LEASE_MS = 3 * CALL_TIMEOUT_MS;

/** A row as last read or written: a write is made only if the row is still so. */
export interface Version {
  at: number;
  ts: string | null;
}

export function versionOf(row: { updatedAt: Date; ts: string | null }): Version {
  return { at: row.updatedAt.getTime(), ts: row.ts };
}

/** Whether another instance holds the row now (`mine`: what this instance holds, if anything). */
export function heldByOther(row: { updatedAt: Date }, mine: Version | undefined, now = Date.now()): boolean {
  const at = row.updatedAt.getTime();
  return at > now && at !== mine?.at;
}

/** When a hold taken now ends: never the version it replaces, so two claims on one version cannot both win. */
export function leaseEnd(replaced: Version | undefined, now = Date.now()): number {
  return Math.max(now + LEASE_MS, (replaced?.at ?? 0) + 1);
}

/**
 * The version a hold ends at after a failed call: now, or, when it is tried again at `retryAt`,
 * a while after that, so its holder keeps it through the wait (Slack's Retry-After is for all).
 */
export function afterFailure(retryAt: number | undefined, now = Date.now()): number {
  return retryAt === undefined ? now : retryAt + LEASE_MS;
}

/** The condition that the row is still at `version`. */
export function atVersion(columns: { updatedAt: SQLiteColumn; ts: SQLiteColumn }, version: Version): SQL {
  return and(eq(columns.updatedAt, new Date(version.at)), version.ts === null ? isNull(columns.ts) : eq(columns.ts, version.ts))!;
}
