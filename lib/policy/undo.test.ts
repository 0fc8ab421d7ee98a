import { test } from "node:test";
import assert from "node:assert/strict";
import { parsePolicy, PolicyError } from "./policy-file";
import { DEFAULT_UNDO_KEEP_MS } from "./undo";

const policy = (review: string) => `resources:
  demo: { type: postgres, url: "pglite://demo" }
rules:
  - name: writes
    match: { kinds: [update] }
    action: review
    review: { approvers: [db-approvers]${review} }
`;

test("review.undo: true keeps captured rows 7 days, a duration that long, false or absent none", () => {
  assert.equal(parsePolicy(policy(", undo: true")).rules[0].review?.undoMs, DEFAULT_UNDO_KEEP_MS);
  assert.equal(DEFAULT_UNDO_KEEP_MS, 7 * 86_400_000);
  assert.equal(parsePolicy(policy(", undo: 2d")).rules[0].review?.undoMs, 2 * 86_400_000);
  assert.equal(parsePolicy(policy(", undo: false")).rules[0].review?.undoMs, undefined);
  assert.equal(parsePolicy(policy("")).rules[0].review?.undoMs, undefined);
});

test("review.undo: longer than 90 days, or not a duration, is refused with its line", () => {
  const refused = (review: string, why: RegExp) =>
    assert.throws(() => parsePolicy(policy(review)), (err: unknown) => err instanceof PolicyError && why.test(err.message) && /:7: rules\.0\.review\.undo/.test(err.message), review);
  refused(", undo: 91d", /at most 90d/);
  refused(", undo: soon", /duration/);
  refused(", undo: 7", /undo/);
});

test("the shipped policy keeps writes' undo 7 days", async () => {
  const { readFileSync } = await import("node:fs");
  const shipped = parsePolicy(readFileSync("airlock.policy.yaml", "utf8"), {});
  assert.equal(shipped.rules.find((r) => r.name === "agents-write")?.review?.undoMs, 7 * 86_400_000);
});
