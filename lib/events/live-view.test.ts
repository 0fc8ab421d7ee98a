import assert from "node:assert/strict";
import { test } from "node:test";
import type { AirlockEvent } from "./bus";
import { liveView } from "./live-view";

const reminded: AirlockEvent = { type: "request.reminded", requestId: "r_1", groups: ["db-approvers"] };

test("a reminder is for the browsers of those who may decide it; everyone else hears only that something changed", () => {
  assert.deepEqual(liveView(reminded, { role: "approver", groups: ["db-approvers"] }), { type: "request.reminded", forYou: true });
  assert.deepEqual(liveView(reminded, { role: "approver", groups: ["sre-leads"] }), { type: "request.reminded" }, "not their group");
  assert.deepEqual(liveView(reminded, { role: "viewer", groups: ["db-approvers"] }), { type: "request.reminded" }, "viewers decide nothing");
  assert.deepEqual(liveView({ type: "request.escalated", requestId: "r_1", groups: ["sre-leads"] }, { role: "admin", groups: ["sre-leads"] }), { type: "request.escalated", forYou: true });
  assert.deepEqual(Object.keys(liveView(reminded, { role: "approver", groups: ["db-approvers"] })!), ["type", "forYou"], "no ids or groups on the socket");
});
