import assert from "node:assert/strict";
import { test } from "node:test";
import { storedRequest } from "../approvals/testing";
import { requestMessage } from "./blocks";

const URL = "http://airlock.test/requests/r_0a1b";
const now = new Date("2025-03-01T10:00:00Z");

test("a waiting step-up request's message says a click does not decide it, and links the page; others, and once decided, say nothing of it", () => {
  const shown = (overrides: Parameters<typeof storedRequest>[1]) => JSON.stringify(requestMessage(storedRequest(now, overrides), [], URL).blocks);
  const waiting = shown({ stepUpMs: 300_000 });
  assert.ok(waiting.includes("*Step-up*: decisions count only from a sign-in within the last 5m, on <http://airlock.test/requests/r_0a1b|the request's page>; a click here does not decide it."), waiting);
  assert.ok(waiting.includes('"actions"'), "the buttons stay: a click is answered with the link");
  assert.ok(!shown({}).includes("Step-up"));
  assert.ok(!shown({ stepUpMs: 300_000, status: "approved", decidedAt: now }).includes("Step-up"));
});
