/**
 * Issue 19: a restart keeps the schedule of reminders and the escalation, since their due times
 * are read from the store. Access asked for up front outlives a restart (a held statement's
 * connection does not), so it is what waits here: reminded in its Slack thread before the stop,
 * escalated while Airlock was down (posted once, at the next start), and reminded again after,
 * one reminder for the intervals missed, in the same thread.
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import Database from "better-sqlite3";
import { agentToken, api } from "../access/setup";
import { startSlackStandIn, succeeded, type SlackCall } from "../support/slack-stand-in";
import { makeTempDir } from "../support/temp-dir";
import { startAirlockWithSlack } from "./setup";

const POLICY = `resources:
  demo: { type: postgres, url: "pglite://demo" }
rules:
  - name: agents-write
    match: { groups: [agents], kinds: [update] }
    action: review
    review: { approvers: [db-approvers], timeout: 2m, remind: 3s, escalate: { after: 8s, to: [engineering], channel: "#sre" } }
    access: { max: 1h }
`;

const dir = makeTempDir("slack-follow-ups-restart");
after(() => dir.remove());

test("reminded before a restart, escalated while down (posted once at the start), reminded after it in the same thread, the missed intervals skipped", { timeout: 120_000 }, async () => {
  const slack = await startSlackStandIn();
  try {
    const first = await startAirlockWithSlack(slack, dir.path, { policy: POLICY });
    const asked = await api<{ id: string }>(first, await agentToken(first), "POST", "/api/v1/access-requests", { resource: "demo", access: "write", duration: "15m" });
    assert.equal(asked.status, 201);
    const id = asked.body.id;
    const posted = await slack.waitFor("chat.postMessage", succeeded(id));
    const inThread = (c: SlackCall) => c.args.thread_ts === posted.ts && c.args.channel === posted.channel && /reminder/.test(String(c.args.text));
    await slack.waitFor("chat.postMessage", inThread, 10_000);
    await first.stop();
    const stoppedAt = Date.now();

    // Down past the escalation (8 s) and two more reminders' times.
    const db = new Database(path.join(dir.path, "airlock.db"), { readonly: true });
    const { created } = db.prepare("select created_at as created from access_requests where id = ?").get(id) as { created: number };
    await new Promise((r) => setTimeout(r, Math.max(0, created + 10_000 - Date.now())));
    const before = db.prepare("select kind, seq from request_follow_ups where request_id = ? order by id").all(id) as Array<{ kind: string; seq: number }>;
    assert.ok(before.every((f) => f.kind === "reminder") && before.length >= 1);

    const second = await startAirlockWithSlack(slack, dir.path, { policy: POLICY });
    try {
      const escalated = await slack.waitFor("chat.postMessage", (c) => c.args.channel === "#sre" && String(c.args.text).includes(id), 15_000);
      assert.ok(escalated.at > stoppedAt, "posted by the restarted Airlock");
      const resumed = await slack.waitFor("chat.postMessage", (c) => inThread(c) && c.at > stoppedAt, 15_000);
      assert.ok(resumed, "reminded in the message's thread, which the store remembers");
      await slack.settled(1_000);
      const rows = db.prepare("select kind, seq from request_follow_ups where request_id = ? order by id").all(id) as Array<{ kind: string; seq: number }>;
      const reminders = rows.filter((r) => r.kind === "reminder").map((r) => r.seq);
      const afterRestart = reminders.slice(before.length);
      assert.ok(afterRestart[0] > before.at(-1)!.seq + 1, `the intervals missed while down are skipped (${reminders})`);
      assert.equal(rows.filter((r) => r.kind === "escalation").length, 1);
      assert.equal((await slack.calls("chat.postMessage")).filter((c) => c.args.channel === "#sre" && String(c.args.text).includes(id)).length, 1, "escalated once");
      assert.equal((await slack.calls("chat.postMessage")).filter(inThread).length, reminders.length, "one post per reminder");
      db.close();
    } finally {
      await second.stop();
    }
  } finally {
    await slack.close();
  }
});
