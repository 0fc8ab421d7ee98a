import { DurationText, formatDuration, parseDuration } from "./duration";

/**
 * The longest `review.step_up`: a person's console session lasts 8 hours (auth.ts), so a longer
 * one would ask nothing of a signed-in approver; a sign-in that old is no "step up".
 */
export const MAX_STEP_UP_MS = 8 * 3_600_000;

/** `review.step_up` in the policy file's spelling: how recent the approver's sign-in must be. */
export const stepUpFields = {
  step_up: DurationText.refine((v) => (parseDuration(v) ?? 0) <= MAX_STEP_UP_MS, `at most ${formatDuration(MAX_STEP_UP_MS)}: longer than a console session asks nothing`).optional(),
};

/** The step-up of a validated `review:` in milliseconds, as ReviewOptions keeps it (absent when it asks none). */
export function stepUpOf(review: { step_up?: string }): { stepUpMs?: number } {
  return review.step_up === undefined ? {} : { stepUpMs: parseDuration(review.step_up)! };
}
