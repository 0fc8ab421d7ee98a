import { z } from "zod";
import { DurationText, formatDuration, parseDuration } from "./duration";

/** The dry run's statement_timeout unless the rule says otherwise (`review.preview_timeout`). */
export const DEFAULT_DRY_RUN_TIMEOUT_MS = 2_000;
/** The longest dry run a rule may ask for: it holds the rows it changes locked until it rolls back. */
export const MAX_DRY_RUN_TIMEOUT_MS = 30_000;

/**
 * `review.preview` in the policy file's spelling: `count` asks for the exact count of a dry run
 * (lib/approvals/preview/dry-run.ts) beside the planner's estimate, which every held write gets;
 * `preview_timeout` bounds that dry run (its statement_timeout).
 */
export const previewFields = {
  preview: z.enum(["count"]).optional(),
  preview_timeout: DurationText.refine((v) => (parseDuration(v) ?? 0) <= MAX_DRY_RUN_TIMEOUT_MS, `at most ${formatDuration(MAX_DRY_RUN_TIMEOUT_MS)}: a dry run holds the rows it changes locked until it rolls back`).optional(),
};

export interface PreviewOptions {
  /** Run the statement in a transaction of Airlock's own and roll it back, for the exact count. */
  dryRun: boolean;
  /** The dry run's statement_timeout, ms. */
  dryRunTimeoutMs: number;
}

/** A validated `review:`'s preview fields, as ReviewOptions keeps them (absent when it asks for no dry run). */
export function previewOf(review: { preview?: "count"; preview_timeout?: string }): { preview?: PreviewOptions } {
  if (review.preview === undefined && review.preview_timeout === undefined) return {};
  return { preview: { dryRun: review.preview === "count", dryRunTimeoutMs: review.preview_timeout === undefined ? DEFAULT_DRY_RUN_TIMEOUT_MS : parseDuration(review.preview_timeout)! } };
}
