import assert from "node:assert/strict";
import { test } from "node:test";
import { deciderGroups, dueReminder, escalatesAt, nextReminderAt } from "./follow-up-times";
import { whyNotDecider, type Decider } from "./people";
import { storedRequest } from "./testing";

const T0 = new Date("2026-12-07T10:00:00Z");
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);
// Opened at T0, expires after 60 s: reminders every 10 s, escalation to sre-leads after 30 s.
const request = storedRequest(T0, { followUp: { remindMs: 10_000, escalate: { afterMs: 30_000, to: ["sre-leads"], channel: "#sre" } } });
const sreLead: Decider = { email: "sam@example.com", groups: ["sre-leads"], role: "approver" };

test("the escalated groups decide only once the wait is over, and are told when that is before", () => {
  assert.deepEqual(escalatesAt(request), at(30));
  assert.deepEqual(deciderGroups(request, at(29.999)), ["db-approvers"]);
  assert.deepEqual(deciderGroups(request, at(30)), ["db-approvers", "sre-leads"]);
  assert.equal(whyNotDecider(sreLead, request, undefined, at(29)), "only members of db-approvers decide this request; it escalates to sre-leads at 2026-12-07T10:00:30.000Z");
  assert.equal(whyNotDecider(sreLead, request, undefined, at(30)), undefined);
  assert.equal(whyNotDecider({ ...sreLead, role: "viewer" }, request, undefined, at(31)), "viewers cannot decide requests", "escalation widens the groups, never the roles");
});

test("an escalation after the request's expiry never comes; none asked for, none comes", () => {
  assert.equal(escalatesAt({ ...request, expiresAt: at(30) }), undefined);
  assert.equal(escalatesAt({ ...request, followUp: null }), undefined);
  assert.deepEqual(deciderGroups({ ...request, followUp: null }, at(1000)), ["db-approvers"]);
});

test("reminders: one per interval, the latest passed after a gap, none at or after expiry", () => {
  assert.equal(dueReminder(request, 0, at(9.9)), undefined);
  assert.equal(dueReminder(request, 0, at(10)), 1);
  assert.equal(dueReminder(request, 1, at(15)), undefined, "the interval's reminder was sent");
  assert.equal(dueReminder(request, 1, at(47)), 4, "an instance back after a gap sends one, not the three it missed");
  assert.equal(dueReminder(request, 5, at(60)), undefined, "the sixth would come as it expires");
  assert.deepEqual(nextReminderAt(request, 1), at(20));
  assert.equal(nextReminderAt(request, 5), undefined);
  assert.equal(dueReminder({ ...request, followUp: null }, 0, at(100)), undefined);
});
