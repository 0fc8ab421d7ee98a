import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type pg from "pg";
import { OWN_AT_ONCE } from "../../lib/slack/throttle";
import { agentToken, api } from "../access/setup";
import type { RunningAirlock } from "../support/airlock-server";
import { buttonClick, buttonIn, denySubmission, postInteraction, postSigned } from "../support/slack-interactions";
import { about, SLACK_USERS, startSlackStandIn, succeeded, type SlackCall, type SlackStandIn } from "../support/slack-stand-in";
import { makeTempDir } from "../support/temp-dir";
import { connectAgent, readStore, startAirlockWithSlack } from "./setup";

const dir = makeTempDir("slack");
let slack: SlackStandIn;
let airlock: RunningAirlock;
let agent: { client: pg.Client; notices: string[] };
let store: ReturnType<typeof readStore>;

before(async () => {
  slack = await startSlackStandIn();
  airlock = await startAirlockWithSlack(slack, dir.path);
  agent = await connectAgent(airlock);
  store = readStore(airlock);
});
after(async () => {
  store?.close();
  await agent?.client.end().catch(() => undefined);
  await airlock?.stop();
  await slack?.close();
  dir.remove();
});

/** Holds a statement and returns the message Airlock posted for it. */
async function hold(sql: string, marker: string): Promise<{ running: Promise<pg.QueryResult>; posted: SlackCall }> {
  const running = agent.client.query(sql);
  running.catch(() => undefined);
  return { running, posted: await slack.waitFor("chat.postMessage", succeeded(marker)) };
}

async function click(posted: SlackCall, user: { id: string }, label: string): Promise<Response> {
  const response = await postInteraction(airlock.url, buttonClick(posted, user.id, buttonIn(posted, label)));
  assert.equal(response.status, 200, "acknowledged");
  return response;
}

/** What the clicker alone was told. */
async function toldTo(user: { id: string }, text: RegExp): Promise<SlackCall> {
  return slack.waitFor("chat.postEphemeral", (c) => c.args.user === user.id && text.test(c.args.text));
}

const blocksOf = (call: SlackCall) => JSON.stringify(call.args.blocks);

describe("approving from Slack", () => {
  test("a held UPDATE posts a message; bob's signed click releases it; the message says bob approved", async () => {
    const { running, posted } = await hold("update orders set status = 'paid' where id = 1 /* slack-approve */", "slack-approve");
    const request = store.request("slack-approve")!;
    assert.equal(posted.args.channel, "#db-approvals");
    assert.match(posted.args.text, new RegExp(`Airlock ${request.id}: reporting-agent asks to run update orders on demo`));
    const blocks = blocksOf(posted);
    for (const expected of ["*reporting-agent* asks to run *update orders on demo*", `<${airlock.url}/requests/${request.id}|request ${request.id}>`, "reporting-agent (agents, analytics)", "*Rule*\\nagents-write", "*Scope*\\nupdate orders", "*Approvals*\\n0 of 1", "*Waiting since*\\n<!date^", "```\\nupdate orders set status = 'paid' where id = 1 /* slack-approve */\\n```"]) {
      assert.ok(blocks.includes(expected), `${expected} in ${blocks}`);
    }
    for (const label of ["Approve once", "Approve for 15 min", "Approve for 1 h", "Deny"]) assert.equal(buttonIn(posted, label).value, request.id);

    await click(posted, SLACK_USERS.bob, "Approve once");
    assert.equal((await running).rowCount, 1, "the statement ran");
    // The update that shows the decision: the message is also updated once its impact preview is made.
    const updated = await slack.waitFor("chat.update", (c) => c.args.ts === posted.ts && c.args.channel === posted.channel && /Approved/.test(blocksOf(c)));
    assert.match(blocksOf(updated), /Approved\* by bob@example.com \(Slack, once\) at <!date/);
    assert.match(blocksOf(updated), /\*Approvals\*\\n1 of 1/);
    assert.ok(!blocksOf(updated).includes('"actions"'), "no buttons once decided");
    assert.deepEqual(store.decisions(request.id), [{ person: "bob@example.com", decision: "approve", via: "slack" }]);
    assert.ok((await slack.calls("users.info")).some((c) => c.args.user === SLACK_USERS.bob.id), "bob is known by his Slack profile's email");
  });

  test("a forgery, a replay, a stranger, a viewer, an unknown button, a second click: nothing changes, each is answered", async () => {
    const { running, posted } = await hold("update products set name = 'slack-refusals' where id = 2", "slack-refusals");
    const request = store.request("slack-refusals")!;
    const approve = buttonClick(posted, SLACK_USERS.alice.id, buttonIn(posted, "Approve once"));

    assert.equal((await postInteraction(airlock.url, approve, { signature: `v0=${"0".repeat(64)}` })).status, 401, "bad signature");
    assert.equal((await postInteraction(airlock.url, approve, { secret: "not-the-signing-secret" })).status, 401, "signed with another secret");
    assert.equal((await postInteraction(airlock.url, approve, { timestamp: Math.floor(Date.now() / 1000) - 6 * 60 })).status, 401, "replayed after five minutes");
    assert.equal((await postSigned(airlock.url, "payload=%7Bnot-json")).status, 400, "malformed payload");
    assert.equal((await fetch(`${airlock.url}/api/slack/events`)).status, 405, "only Slack's POSTs");

    await click(posted, SLACK_USERS.carol, "Approve once");
    await toldTo(SLACK_USERS.carol, new RegExp(`^${request.id}: viewers cannot decide requests$`));
    await click(posted, SLACK_USERS.stranger, "Approve once");
    await toldTo(SLACK_USERS.stranger, /Airlock does not know mallory@elsewhere\.example: sign in to Airlock once/);
    await click(posted, SLACK_USERS.bot, "Approve once");
    await toldTo(SLACK_USERS.bot, /Slack apps cannot decide requests/);
    const forged = buttonClick(posted, SLACK_USERS.alice.id, { action_id: "airlock.approve.31536000000", value: request.id, text: { text: "Approve for a year" } });
    assert.equal((await postInteraction(airlock.url, forged)).status, 200);
    await toldTo(SLACK_USERS.alice, /this request does not offer a grant of that length/);
    assert.equal((await postInteraction(airlock.url, buttonClick(posted, SLACK_USERS.alice.id, { action_id: "drop.table", value: request.id, text: { text: "?" } }))).status, 200);
    await toldTo(SLACK_USERS.alice, /Airlock does not know this button; nothing was changed/);

    assert.equal(store.request("slack-refusals")!.status, "pending");
    assert.deepEqual(store.decisions(request.id), []);
    // Untouched but for its impact preview: no update shows a decision.
    assert.equal((await slack.calls("chat.update")).filter((c) => c.args.ts === posted.ts && !/\*Approvals\*\\n0 of 1/.test(blocksOf(c))).length, 0, "the message is untouched");

    // For 15 minutes: a grant on products, which no other test here touches.
    await click(posted, SLACK_USERS.alice, "Approve for 15 min");
    await running;
    await slack.waitFor("chat.update", (c) => c.args.ts === posted.ts && /Approved/.test(blocksOf(c)));
    await click(posted, SLACK_USERS.bob, "Approve once");
    await toldTo(SLACK_USERS.bob, new RegExp(`^${request.id}: already approved by alice@example.com at \\d{4}-\\d\\d-\\d\\dT`));
    assert.deepEqual(store.decisions(request.id), [{ person: "alice@example.com", decision: "approve", via: "slack" }]);
  });

  test("Deny opens a form; a viewer's submission is refused in the form; bob's reason reaches the agent and the message", async () => {
    const { running, posted } = await hold("update orders set status = 'shipped' where id = 3 /* slack-deny */", "slack-deny");
    const request = store.request("slack-deny")!;
    await click(posted, SLACK_USERS.bob, "Deny");
    const opened = await slack.waitFor("views.open", (c) => c.args.view.private_metadata === request.id);
    assert.match(opened.args.trigger_id, /U0BOB$/, "opened for the click that asked");

    const carol = await postInteraction(airlock.url, denySubmission(opened, SLACK_USERS.carol.id, "I say no"));
    assert.deepEqual(await carol.json(), { response_action: "errors", errors: { reason: "viewers cannot decide requests" } });
    assert.equal(store.request("slack-deny")!.status, "pending");

    const bob = await postInteraction(airlock.url, denySubmission(opened, SLACK_USERS.bob.id, "not during the freeze <!channel>"));
    assert.equal(bob.status, 200);
    assert.equal(await bob.text(), "", "the form closes");
    await assert.rejects(running, (err: { code?: string; message: string }) => {
      assert.equal(err.code, "42501");
      assert.equal(err.message, "airlock: denied by bob@example.com: not during the freeze <!channel>");
      return true;
    });
    const updated = await slack.waitFor("chat.update", (c) => c.args.ts === posted.ts && /Denied/.test(blocksOf(c)));
    assert.match(blocksOf(updated), /Denied\* by bob@example.com \(Slack\) at .*: not during the freeze &lt;!channel&gt;/);
    assert.deepEqual(store.decisions(request.id), [{ person: "bob@example.com", decision: "deny", via: "slack" }]);
  });

  test("the rule's slack_channel; count 2 shows 1 of 2 with the buttons, then approved", async () => {
    const { running, posted } = await hold("alter table products add column if not exists slack_count_two text", "slack_count_two");
    assert.equal(posted.args.channel, "#schema-reviews");
    await click(posted, SLACK_USERS.bob, "Approve once");
    const partial = await slack.waitFor("chat.update", (c) => c.args.ts === posted.ts && /1 of 2/.test(blocksOf(c)));
    assert.match(blocksOf(partial), /\*Approvals\*\\n1 of 2/);
    assert.match(blocksOf(partial), /Approved so far by bob@example.com \(Slack, once\)/);
    assert.ok(blocksOf(partial).includes('"actions"'), "still open to a second approver");
    await click(posted, SLACK_USERS.bob, "Approve once");
    await toldTo(SLACK_USERS.bob, /you have already decided on this request/);
    await click(posted, SLACK_USERS.alice, "Approve once");
    await running;
    await slack.waitFor("chat.update", (c) => c.args.ts === posted.ts && /Approved\* by bob@example.com \(Slack, once\), alice@example.com \(Slack, once\)/.test(blocksOf(c)));
  });

  test("Slack failing or rate limiting: the proxy does not wait, the post is retried, then Slack decides as usual", async () => {
    await slack.fail({ method: "chat.postMessage", matching: "slack-outage", failures: [{ status: 500 }, { retryAfter: 1 }] });
    agent.notices.length = 0;
    const started = performance.now();
    const running = agent.client.query("update orders set status = 'paid' where id = 4 /* slack-outage */");
    running.catch(() => undefined);
    for (let i = 0; i < 500 && !agent.notices.some((n) => n.includes("held for approval")); i++) await new Promise((r) => setTimeout(r, 10));
    const noticeMs = performance.now() - started;
    assert.ok(noticeMs < 1_000, `the agent heard of the hold at once (${noticeMs.toFixed(0)} ms)`);

    const posted = await slack.waitFor("chat.postMessage", succeeded("slack-outage"));
    const attempts = (await slack.calls("chat.postMessage")).filter(about("slack-outage"));
    assert.deepEqual(attempts.map((c) => c.status), [500, 429, 200]);
    assert.ok(attempts[2].at - attempts[1].at >= 1_000, "Retry-After honoured");
    await click(posted, SLACK_USERS.bob, "Approve once");
    assert.equal((await running).rowCount, 1);
  });

  test("a signed approve click sent twice decides once; the second answer says it was a replay, as does the click signed anew", async () => {
    const { running, posted } = await hold("update orders set status = 'paid' where id = 5 /* slack-replay */", "slack-replay");
    const request = store.request("slack-replay")!;
    const approve = buttonClick(posted, SLACK_USERS.bob.id, buttonIn(posted, "Approve once"));
    const timestamp = Math.floor(Date.now() / 1000);
    // Side by side, as a replay racing the original would arrive.
    const answers = await Promise.all([postInteraction(airlock.url, approve, { timestamp }), postInteraction(airlock.url, approve, { timestamp })]);
    assert.deepEqual(answers.map((a) => a.status).sort(), [200, 409]);
    assert.match(await answers.find((a) => a.status === 409)!.text(), /^replayed request: .*nothing was changed/);
    const resigned = await postInteraction(airlock.url, approve, { timestamp: timestamp - 1 });
    assert.equal(resigned.status, 409, "the same interaction (trigger id) signed at another time");

    assert.equal((await running).rowCount, 1);
    await slack.waitFor("chat.update", (c) => c.args.ts === posted.ts && /Approved/.test(blocksOf(c)));
    assert.deepEqual(store.decisions(request.id), [{ person: "bob@example.com", decision: "approve", via: "slack" }]);
    const toBob = (await slack.calls("chat.postEphemeral")).filter((c) => c.args.user === SLACK_USERS.bob.id && c.args.text.startsWith(request.id));
    assert.deepEqual(toBob, [], "a replay never reaches the approvals service, so not even 'already approved' is said");
  });

  test("a burst of 20 access requests from ops-agent: a few messages and one summary; reporting-agent's statement meanwhile is posted at once", async () => {
    const ops = await agentToken(airlock, "ops-agent");
    const asks = await Promise.all(Array.from({ length: 20 }, (_, n) => api(airlock, ops, "POST", "/api/v1/access-requests", { resource: "demo", access: "write", duration: "1h", reason: `slack-burst ${n}` })));
    assert.deepEqual(asks.map((a) => a.status), Array(20).fill(201));
    const started = performance.now();
    const { running, posted } = await hold("update orders set status = 'paid' where id = 6 /* slack-burst-other */", "slack-burst-other");
    assert.ok(performance.now() - started < 2_000, "another agent's request is not held back");

    const summaryOf = (n: number) => (c: SlackCall) => c.args.text === `Airlock: and ${n} more requests from ops-agent`;
    const summary = await slack.waitFor("chat.postMessage", (c) => /^Airlock: and \d+ more requests? from ops-agent$/.test(c.args.text));
    if (!summaryOf(20 - OWN_AT_ONCE)(summary)) await slack.waitFor("chat.update", (c) => c.args.ts === summary.ts && summaryOf(20 - OWN_AT_ONCE)(c));
    assert.ok(blocksOf(summary).includes(`<${airlock.url}/?agent=ops-agent|open the queue>`), blocksOf(summary));
    assert.equal((await slack.calls("chat.postMessage")).filter((c) => c.args.text.includes("ops-agent")).length, OWN_AT_ONCE + 1);

    // Withdrawn, they leave the summary saying none are waiting; the other agent is decided as usual.
    for (const ask of asks) assert.equal((await api(airlock, ops, "DELETE", `/api/v1/access-requests/${String(ask.body.id)}`)).status, 200);
    await slack.waitFor("chat.update", (c) => c.args.ts === summary.ts && /no more rolled-up requests from ops-agent/.test(c.args.text));
    await click(posted, SLACK_USERS.bob, "Approve once");
    assert.equal((await running).rowCount, 1);
  });
});
