/**
 * Issue 19, reminders and escalation with Airlock as users start it, Slack being the stand-in:
 * a waiting request's approvers are reminded in its message's thread at each interval (their
 * Slack user group mentioned), recorded in its history and the audit trail; a request escalates
 * after its wait, posting to the escalation channel, and only then may the escalated group decide,
 * from Slack and from the web.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import Database from "better-sqlite3";
import type pg from "pg";
import type { RunningAirlock } from "../support/airlock-server";
import { callServerAction } from "../support/server-actions";
import { buttonClick, buttonIn, postInteraction } from "../support/slack-interactions";
import { SLACK_USERS, startSlackStandIn, succeeded, type SlackCall, type SlackStandIn } from "../support/slack-stand-in";
import { makeTempDir } from "../support/temp-dir";
import { signInOverHttp } from "../web/http-session";
import { connectAgent, readStore, startAirlockWithSlack } from "./setup";

const FOLLOW_UP_POLICY = `resources:
  demo: { type: postgres, url: "pglite://demo" }
rules:
  - name: reminded
    match: { groups: [agents], kinds: [update] }
    action: review
    review: { approvers: [db-approvers], timeout: 1m, remind: 2s }
  - name: escalated
    match: { groups: [agents], kinds: [delete] }
    action: review
    review: { approvers: [db-approvers], timeout: 1m, escalate: { after: 4s, to: [engineering], channel: "#sre" } }
`;
/** Carol is in engineering only: an approver (by this setting) of nothing until a request escalates to engineering. */
const FOLLOW_UP_ENV = { AIRLOCK_APPROVER_GROUPS: "db-approvers,engineering", SLACK_USER_GROUPS: "db-approvers=S0DBAPPROVERS, engineering=S0ENGINEERS" };

const dir = makeTempDir("slack-follow-ups");
let slack: SlackStandIn;
let airlock: RunningAirlock;
let agent: { client: pg.Client };
let store: ReturnType<typeof readStore>;
let db: Database.Database;

before(async () => {
  slack = await startSlackStandIn();
  airlock = await startAirlockWithSlack(slack, dir.path, { policy: FOLLOW_UP_POLICY, env: FOLLOW_UP_ENV });
  agent = await connectAgent(airlock);
  store = readStore(airlock);
  db = new Database(path.join(airlock.dataDir, "airlock.db"), { readonly: true });
});
after(async () => {
  db?.close();
  store?.close();
  await agent?.client.end().catch(() => undefined);
  await airlock?.stop();
  await slack?.close();
  dir.remove();
});

async function hold(sql: string, marker: string): Promise<{ running: Promise<pg.QueryResult>; posted: SlackCall; id: string; openedAt: number }> {
  const running = agent.client.query(sql);
  running.catch(() => undefined);
  const posted = await slack.waitFor("chat.postMessage", succeeded(marker));
  const request = db.prepare("select id, created_at as at from access_requests where statements like ?").get(`%${marker}%`) as { id: string; at: number };
  return { running, posted, id: request.id, openedAt: request.at };
}

const followUps = (requestId: string) => db.prepare("select kind, seq, at, groups, channel from request_follow_ups where request_id = ? order by id").all(requestId) as Array<{ kind: string; seq: number; at: number; groups: string; channel: string | null }>;
const audited = (requestId: string, type: string) => db.prepare("select data from audit_log where request_id = ? and type = ? order by id").all(requestId, type) as Array<{ data: string }>;
const posts = async (test: (c: SlackCall) => boolean) => (await slack.calls("chat.postMessage")).filter(test);
const decide = (cookie: string, requestId: string) => callServerAction(airlock, cookie, "decideRequest", `/requests/${requestId}`, { requestId, decision: "approve:once" });

test("a waiting request's approvers are reminded in its thread every interval, their user group mentioned; each reminder is recorded and audited", { timeout: 60_000 }, async () => {
  const { running, posted, id, openedAt } = await hold("update orders set status = 'paid' where id = 1 /* follow-up-remind */", "follow-up-remind");
  const inThread = (c: SlackCall) => c.args.thread_ts === posted.ts && c.args.channel === posted.channel && String(c.args.text).includes(id);
  const first = await slack.waitFor("chat.postMessage", inThread, 10_000);
  assert.ok(first.at - openedAt >= 2_000, `not before the interval (${first.at - openedAt} ms)`);
  assert.match(first.args.text, /^:bell: <!subteam\^S0DBAPPROVERS> reminder: <http:\/\/localhost:\d+\/requests\/r_\w+\|request r_\w+> from reporting-agent is still waiting/);
  await slack.waitFor("chat.postMessage", (c) => inThread(c) && c.ts !== first.ts, 10_000);

  await postInteraction(airlock.url, buttonClick(posted, SLACK_USERS.bob.id, buttonIn(posted, "Approve once")));
  assert.equal((await running).rowCount, 1);
  await slack.settled(2_500);
  const recorded = followUps(id);
  assert.ok(recorded.length >= 2, "two intervals passed before the approval");
  assert.deepEqual(recorded.map((f) => [f.kind, f.seq, JSON.parse(f.groups)]), recorded.map((_, i) => ["reminder", i + 1, ["db-approvers"]]), "one per interval, numbered");
  assert.equal((await posts(inThread)).length, recorded.length, "one post per recorded reminder");
  await waitFor(() => audited(id, "request.reminded").length === recorded.length, "each reminder audited");
  const cookie = await signInOverHttp(airlock.url, "bob@example.com");
  const page = await (await fetch(`${airlock.url}/requests/${id}`, { headers: { cookie } })).text();
  assert.match(page, /Reminder <!-- -->1<\/strong> to <!-- -->db-approvers/);
});

test("escalation: the escalated group may decide only after the wait, from Slack (the escalation channel's post) and the web; the page, history and audit show it", { timeout: 90_000 }, async () => {
  const carol = await signInOverHttp(airlock.url, "carol@example.com");

  // From Slack: refused before the wait, then decided on the escalation channel's post.
  const bySlack = await hold("delete from refunds where id = -1 /* follow-up-escalate-slack */", "follow-up-escalate-slack");
  await postInteraction(airlock.url, buttonClick(bySlack.posted, SLACK_USERS.carol.id, buttonIn(bySlack.posted, "Approve once")));
  const refused = await slack.waitFor("chat.postEphemeral", (c) => c.args.user === SLACK_USERS.carol.id && String(c.args.text).includes(bySlack.id));
  assert.match(refused.args.text, /only members of db-approvers decide this request; it escalates to engineering at /);
  const beforePage = await (await fetch(`${airlock.url}/requests/${bySlack.id}`, { headers: { cookie: carol } })).text();
  assert.match(beforePage, /data-testid="escalation">to <!-- -->engineering<!-- --> \(Slack #sre\)<!-- --> at /);
  assert.ok(!beforePage.includes("Approve once"), "no decision buttons for carol yet");

  const escalated = await slack.waitFor("chat.postMessage", (c) => c.args.channel === "#sre" && String(c.args.text).includes(bySlack.id), 10_000);
  assert.ok(escalated.at - bySlack.openedAt >= 4_000, "not before the wait");
  assert.match(escalated.args.text, /^:rotating_light: <!subteam\^S0ENGINEERS> <[^>]+> escalated to engineering: nobody of db-approvers decided within 4s/);
  await slack.waitFor("chat.postMessage", (c) => c.args.thread_ts === bySlack.posted.ts && /Escalated to engineering in #sre/.test(String(c.args.text)));
  await postInteraction(airlock.url, buttonClick(escalated, SLACK_USERS.carol.id, buttonIn(escalated, "Approve once")));
  assert.equal((await bySlack.running).rowCount, 0, "carol's Slack approval released it");
  assert.deepEqual(store.decisions(bySlack.id), [{ person: "carol@example.com", decision: "approve", via: "slack" }]);

  // From the web: refused before the wait, counted after it.
  const byWeb = await hold("delete from refunds where id = -2 /* follow-up-escalate-web */", "follow-up-escalate-web");
  assert.match(await decide(carol, byWeb.id), /only members of db-approvers decide this request; it escalates to engineering/);
  await waitFor(() => followUps(byWeb.id).length === 1, "the escalation recorded", 10_000);
  assert.match(await decide(carol, byWeb.id), /Request approved/);
  assert.equal((await byWeb.running).rowCount, 0);

  const [row] = followUps(byWeb.id);
  assert.deepEqual([row.kind, JSON.parse(row.groups), row.channel], ["escalation", ["engineering"], "#sre"]);
  const page = await (await fetch(`${airlock.url}/requests/${byWeb.id}`, { headers: { cookie: carol } })).text();
  assert.match(page, /data-testid="escalation">escalated to <!-- -->engineering<!-- --> \(Slack #sre\)<!-- --> at /);
  assert.match(page, /<strong>Escalated<\/strong> to <!-- -->engineering/);
  await waitFor(() => audited(byWeb.id, "request.escalated").length === 1, "the escalation audited");
  assert.deepEqual(JSON.parse(audited(byWeb.id, "request.escalated")[0].data), { groups: ["engineering"], channel: "#sre" });
});

async function waitFor(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
