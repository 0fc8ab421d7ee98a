/** Shorter lengths offered beside the one asked for (Slack buttons), from the longest down. */
const SHORTER = [4 * 3_600_000, 2 * 3_600_000, 3_600_000, 30 * 60_000, 15 * 60_000, 10 * 60_000, 5 * 60_000];
/** Shorter choices offered at most, beside the length asked for. */
export const SHORTER_CHOICES = 2;

/** What approvers are offered as buttons: the length asked for, then up to two shorter ones. */
export function approvalChoices(askedMs: number): number[] {
  return [askedMs, ...SHORTER.filter((ms) => ms < askedMs).slice(0, SHORTER_CHOICES)];
}
