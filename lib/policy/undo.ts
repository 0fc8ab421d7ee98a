import { z } from "zod";
import { DurationText, formatDuration, parseDuration } from "./duration";

/** How long captured rows are kept when a rule says `undo: true`. */
export const DEFAULT_UNDO_KEEP_MS = 7 * 24 * 3600_000;
/** The longest a rule may keep them: they are personal data (docs/security.md). */
export const MAX_UNDO_KEEP_MS = 90 * 24 * 3600_000;

/**
 * `review.undo` in the policy file's spelling: `true` (kept 7 days) or how long to keep the prior
 * values of the rows an approved write changes, so that it can be reverted (lib/approvals/undo).
 */
export const undoFields = {
  undo: z
    .union([z.boolean(), DurationText.refine((v) => (parseDuration(v) ?? 0) <= MAX_UNDO_KEEP_MS, `at most ${formatDuration(MAX_UNDO_KEEP_MS)}: the captured rows are personal data`)])
    .optional(),
};

/** A validated `review:`'s undo field, as ReviewOptions keeps it: how long captured rows are kept (absent: no undo). */
export function undoOf(review: { undo?: boolean | string }): { undoMs?: number } {
  if (review.undo === undefined || review.undo === false) return {};
  return { undoMs: review.undo === true ? DEFAULT_UNDO_KEEP_MS : parseDuration(review.undo)! };
}
