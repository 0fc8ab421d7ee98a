import { test } from "node:test";
import assert from "node:assert/strict";
import { parsePolicy, PolicyError } from "./policy-file";
import { DEFAULT_DRY_RUN_TIMEOUT_MS } from "./preview";

const policy = (review: string) => `resources:
  demo: { type: postgres, url: "pglite://demo" }
rules:
  - name: writes
    match: { kinds: [update] }
    action: review
    review: { approvers: [db-approvers]${review} }
`;

test("review.preview: count asks for a dry run, by default under a 2 s statement_timeout; without it, estimates only", () => {
  assert.deepEqual(parsePolicy(policy(", preview: count")).rules[0].review?.preview, { dryRun: true, dryRunTimeoutMs: DEFAULT_DRY_RUN_TIMEOUT_MS });
  assert.deepEqual(parsePolicy(policy(", preview: count, preview_timeout: 5s")).rules[0].review?.preview, { dryRun: true, dryRunTimeoutMs: 5_000 });
  assert.equal(parsePolicy(policy("")).rules[0].review?.preview, undefined);
});

test("review.preview: anything but count, and a preview_timeout over 30 s, are refused with their line", () => {
  assert.throws(() => parsePolicy(policy(", preview: exact")), (err: unknown) => err instanceof PolicyError && /preview/.test(err.message));
  assert.throws(() => parsePolicy(policy(", preview: count, preview_timeout: 31s")), (err: unknown) => err instanceof PolicyError && /at most 30s/.test(err.message));
  assert.throws(() => parsePolicy(policy(", preview: count, preview_timeout: soon")), (err: unknown) => err instanceof PolicyError && /duration/.test(err.message));
});
