import { test } from "node:test";
import assert from "node:assert/strict";
import { webApi } from "@slack/bolt";
import { BASE_DELAY_MS, describeSlackError, MAX_ATTEMPTS, MAX_DELAY_MS, MAX_RETRY_AFTER_MS, retryDelay } from "./retry";

const noJitter = () => 0;
const serverError = new webApi.WebAPIHTTPError(503, "Service Unavailable", {});

test("backoff doubles from BASE_DELAY_MS up to MAX_DELAY_MS, with at most 20% jitter", () => {
  assert.equal(retryDelay(serverError, 1, noJitter), BASE_DELAY_MS);
  assert.equal(retryDelay(serverError, 2, noJitter), 2 * BASE_DELAY_MS);
  assert.equal(retryDelay(serverError, 3, noJitter), 4 * BASE_DELAY_MS);
  assert.equal(retryDelay(new webApi.WebAPIRequestError(new Error("ECONNREFUSED")), 1, noJitter), BASE_DELAY_MS);
  assert.ok(retryDelay(serverError, 5, noJitter)! <= MAX_DELAY_MS);
  assert.ok(retryDelay(serverError, 1, () => 0.999)! < BASE_DELAY_MS * 1.2);
});

test("Retry-After is honoured as Slack gives it, up to MAX_RETRY_AFTER_MS", () => {
  assert.equal(retryDelay(new webApi.WebAPIRateLimitedError(7), 1), 7_000);
  assert.equal(retryDelay(new webApi.WebAPIRateLimitedError(86_400), 1), MAX_RETRY_AFTER_MS);
});

test("after MAX_ATTEMPTS, or for a permanent error, there is no retry", () => {
  assert.equal(retryDelay(serverError, MAX_ATTEMPTS), undefined);
  assert.equal(retryDelay(new webApi.WebAPIRateLimitedError(1), MAX_ATTEMPTS), undefined);
  const platform = (error: string) => new webApi.WebAPIPlatformError({ ok: false, error });
  assert.equal(retryDelay(platform("channel_not_found"), 1), undefined);
  assert.equal(retryDelay(platform("invalid_auth"), 1), undefined);
  assert.equal(retryDelay(platform("internal_error"), 1, noJitter), BASE_DELAY_MS);
  assert.equal(retryDelay(new webApi.WebAPIHTTPError(400, "Bad Request", {}), 1), undefined);
  assert.equal(retryDelay(new Error("a bug"), 1), undefined);
});

test("failures are described for people, never with the token", () => {
  assert.equal(describeSlackError(new webApi.WebAPIRateLimitedError(3)), "rate limited (Retry-After 3 s)");
  assert.equal(describeSlackError(serverError), "HTTP 503 Service Unavailable");
  assert.equal(describeSlackError(new webApi.WebAPIPlatformError({ ok: false, error: "channel_not_found" })), "channel_not_found");
});
