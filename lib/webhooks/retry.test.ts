import assert from "node:assert/strict";
import { test } from "node:test";
import { isRetryable, MAX_RETRY_AFTER_MS, MAX_TRIES, parseRetryAfter, RETRY_LIMITS, retryDelay, TRY_TIMEOUT_MS } from "./retry";
import { DEFAULT_TIMING } from "./dispatcher";

test("MAX_TRIES and RETRY_LIMITS: 11 tries, 5 s doubling to 15 min apart, the last about 51 minutes after the first (an hour at most with jitter)", () => {
  const waits = (random: () => number) => Array.from({ length: MAX_TRIES - 1 }, (_, i) => retryDelay(i + 1, undefined, RETRY_LIMITS, MAX_TRIES, random)!);
  assert.deepEqual(waits(() => 0).map((ms) => ms / 1000), [5, 10, 20, 40, 80, 160, 320, 640, 900, 900]);
  assert.equal(waits(() => 0).reduce((a, b) => a + b) / 60_000, 51.25);
  assert.ok(waits(() => 0.999).reduce((a, b) => a + b) <= 62 * 60_000);
  assert.equal(retryDelay(MAX_TRIES), undefined, "then it is given up");
});

test("a Retry-After longer than the backoff is honoured, up to MAX_RETRY_AFTER_MS; a shorter one does not hurry it", () => {
  assert.equal(retryDelay(1, 120_000, RETRY_LIMITS, MAX_TRIES, () => 0), 120_000);
  assert.equal(retryDelay(1, 1_000, RETRY_LIMITS, MAX_TRIES, () => 0), 5_000);
  assert.equal(retryDelay(1, 24 * 3_600_000, RETRY_LIMITS, MAX_TRIES, () => 0), MAX_RETRY_AFTER_MS);
  assert.equal(parseRetryAfter("30"), 30_000);
  assert.equal(parseRetryAfter(new Date(10_000 + 7_000).toUTCString(), 10_000), 7_000);
  assert.equal(parseRetryAfter("soon"), undefined);
  assert.equal(parseRetryAfter(null), undefined);
});

test("retried: 5xx, 408, 429; not retried: any other refusal", () => {
  for (const status of [500, 502, 503, 504, 408, 429]) assert.ok(isRetryable(status), String(status));
  for (const status of [300, 301, 400, 401, 403, 404, 410, 413, 422]) assert.ok(!isRetryable(status), String(status));
});

test("TRY_TIMEOUT_MS: a try waits 10 s for an answer, well inside its hold, so no other instance starts it again meanwhile", () => {
  assert.equal(TRY_TIMEOUT_MS, 10_000);
  assert.ok(DEFAULT_TIMING.holdMs >= 2 * TRY_TIMEOUT_MS);
});
