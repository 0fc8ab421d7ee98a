/**
 * Issue 19: two `npm start` instances on one PostgreSQL store and one Slack (the stand-in). Both
 * look for due reminders and escalations; each is recorded, audited and posted once.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import pg from "pg";
import { agentToken, api } from "../access/setup";
import type { RunningAirlock } from "../support/airlock-server";
import { startPostgres, type TestPostgres } from "../support/postgres";
import { startSlackStandIn, succeeded, type SlackCall, type SlackStandIn } from "../support/slack-stand-in";
import { createStoreDatabase } from "../support/store";
import { makeTempDir } from "../support/temp-dir";
import { startSlackInstances } from "./setup";

const POLICY = `resources:
  demo: { type: postgres, url: "pglite://demo" }
rules:
  - name: agents-write
    match: { groups: [agents], kinds: [update] }
    action: review
    review: { approvers: [db-approvers], timeout: 1m, remind: 2s, escalate: { after: 3s, to: [engineering], channel: "#sre" } }
    access: { max: 1h }
`;

const dir = makeTempDir("slack-follow-ups-instances");
let server: TestPostgres;
let slack: SlackStandIn;
let airlocks: RunningAirlock[];
let store: pg.Client;

before(async () => {
  [server, slack] = await Promise.all([startPostgres(), startSlackStandIn()]);
  const url = await createStoreDatabase(server);
  airlocks = await startSlackInstances(slack, dir.path, { count: 2, storeUrl: url, policy: POLICY });
  store = new pg.Client({ connectionString: url });
  await store.connect();
});
after(async () => {
  await store?.end();
  await Promise.all((airlocks ?? []).map((a) => a.stop()));
  await slack?.close();
  await server?.stop();
  dir.remove();
});

test("two instances: one reminder per interval and one escalation, each recorded, audited and posted once", { timeout: 90_000 }, async () => {
  const asked = await api<{ id: string }>(airlocks[1], await agentToken(airlocks[0]), "POST", "/api/v1/access-requests", { resource: "demo", access: "write", duration: "15m" });
  assert.equal(asked.status, 201);
  const id = asked.body.id;
  const posted = await slack.waitFor("chat.postMessage", succeeded(id));
  const reminder = (c: SlackCall) => c.args.thread_ts === posted.ts && /reminder/.test(String(c.args.text));
  const escalation = (c: SlackCall) => c.args.channel === "#sre" && String(c.args.text).includes(id);
  await slack.waitFor("chat.postMessage", escalation, 15_000);
  // Three intervals, so each instance had its chances at each.
  await new Promise((r) => setTimeout(r, 4_500));
  const withdrawn = await api(airlocks[0], await agentToken(airlocks[0]), "DELETE", `/api/v1/access-requests/${id}`);
  assert.equal(withdrawn.status, 200);
  await slack.settled(2_500);

  const rows = (await store.query<{ kind: string; seq: string }>("select kind, seq from request_follow_ups where request_id = $1 order by id", [id])).rows;
  const reminders = rows.filter((r) => r.kind === "reminder").map((r) => Number(r.seq));
  assert.ok(reminders.length >= 3, `reminders: ${reminders}`);
  assert.deepEqual(reminders, reminders.map((_, i) => i + 1), "one per interval");
  assert.equal(rows.filter((r) => r.kind === "escalation").length, 1);
  const posts = await slack.calls("chat.postMessage");
  assert.equal(posts.filter(reminder).length, reminders.length, "each reminder posted once");
  assert.equal(posts.filter(escalation).length, 1, "the escalation posted once");
  const audited = (await store.query<{ type: string; n: string }>("select type, count(*) as n from audit_log where request_id = $1 and type in ('request.reminded', 'request.escalated') group by type order by type", [id])).rows;
  assert.deepEqual(audited.map((a) => [a.type, Number(a.n)]), [["request.escalated", 1], ["request.reminded", reminders.length]]);
});
