import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type pg from "pg";
import type { RunningAirlock } from "../support/airlock-server";
import { startSocketStandIn, STAND_IN_APP_TOKEN, type Ack, type SocketStandIn } from "../support/slack-socket-stand-in";
import { buttonClick, buttonIn, denySubmission, postSigned } from "../support/slack-interactions";
import { SLACK_USERS, succeeded, type SlackCall } from "../support/slack-stand-in";
import { makeTempDir } from "../support/temp-dir";
import { connectAgent, readStore, startAirlockWithSlack } from "./setup";

/**
 * Slack in Socket Mode (SLACK_APP_TOKEN): the same flows as over HTTP (slack-approvals.test.ts),
 * with each click and form arriving as an envelope on the websocket the app opened, and each
 * acknowledged on it. Reconnecting takes Socket Mode's own pause (five seconds) after a drop.
 */

const dir = makeTempDir("slack-socket");
let slack: SocketStandIn;
let airlock: RunningAirlock;
let agent: { client: pg.Client; notices: string[] };
let store: ReturnType<typeof readStore>;

before(async () => {
  slack = await startSocketStandIn();
  airlock = await startAirlockWithSlack(slack.web, dir.path, { env: { SLACK_APP_TOKEN: STAND_IN_APP_TOKEN } });
  agent = await connectAgent(airlock);
  store = readStore(airlock);
  await slack.connected(1);
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
  return { running, posted: await slack.web.waitFor("chat.postMessage", succeeded(marker)) };
}

/** `user` presses the button labelled `label`; a click is acknowledged bare, the work comes after. */
async function click(posted: SlackCall, user: { id: string }, label: string): Promise<Ack> {
  const ack = await slack.send(buttonClick(posted, user.id, buttonIn(posted, label)));
  assert.deepEqual(ack.payload, {}, "acknowledged with nothing to show");
  return ack;
}

async function toldTo(user: { id: string }, text: RegExp): Promise<SlackCall> {
  return slack.web.waitFor("chat.postEphemeral", (c) => c.args.user === user.id && text.test(c.args.text));
}

const blocksOf = (call: SlackCall) => JSON.stringify(call.args.blocks);
const opens = async () => (await slack.web.calls("apps.connections.open")).filter((c) => c.status === 200 && !c.error).length;

describe("Slack in Socket Mode", () => {
  test("connects with the app token at SLACK_API_URL; nothing is taken over HTTP", { timeout: 30_000 }, async () => {
    assert.equal(await opens(), 1, "one apps.connections.open, answered by the stand-in");
    const response = await postSigned(airlock.url, new URLSearchParams({ payload: "{}" }).toString());
    assert.equal(response.status, 404, "a signed post is not a way in when Slack talks over the socket");
  });

  test("a held UPDATE posts a message; bob's click over the socket releases it", { timeout: 30_000 }, async () => {
    const { running, posted } = await hold("update orders set status = 'paid' where id = 1 /* socket-approve */", "socket-approve");
    const request = store.request("socket-approve")!;
    assert.equal(buttonIn(posted, "Approve once").value, request.id);

    await click(posted, SLACK_USERS.bob, "Approve once");
    assert.equal((await running).rowCount, 1, "the statement ran");
    // The update that shows the decision: the message is also updated once its impact preview is made.
    const updated = await slack.web.waitFor("chat.update", (c) => c.args.ts === posted.ts && c.args.channel === posted.channel && /Approved/.test(blocksOf(c)));
    assert.match(blocksOf(updated), /Approved\* by bob@example.com \(Slack, once\) at <!date/);
    assert.deepEqual(store.decisions(request.id), [{ person: "bob@example.com", decision: "approve", via: "slack" }]);
  });

  test("Deny opens the form; a viewer's submission is refused in the ack; bob's reason reaches the agent", { timeout: 30_000 }, async () => {
    const { running, posted } = await hold("update orders set status = 'shipped' where id = 3 /* socket-deny */", "socket-deny");
    const request = store.request("socket-deny")!;
    const pressed = await click(posted, SLACK_USERS.bob, "Deny");
    const opened = await slack.web.waitFor("views.open", (c) => c.args.view.private_metadata === request.id);
    assert.match(opened.args.trigger_id, /U0BOB$/, "opened for the click that asked");
    assert.ok(pressed.envelopeId);

    const carol = await slack.send(denySubmission(opened, SLACK_USERS.carol.id, "I say no"));
    assert.deepEqual(carol.payload, { response_action: "errors", errors: { reason: "viewers cannot decide requests" } });
    assert.equal(store.request("socket-deny")!.status, "pending");

    const bob = await slack.send(denySubmission(opened, SLACK_USERS.bob.id, "not during the freeze"));
    assert.deepEqual(bob.payload, {}, "the form closes");
    await assert.rejects(running, (err: { code?: string; message: string }) => {
      assert.equal(err.code, "42501");
      assert.equal(err.message, "airlock: denied by bob@example.com: not during the freeze");
      return true;
    });
    const updated = await slack.web.waitFor("chat.update", (c) => c.args.ts === posted.ts && /Denied/.test(blocksOf(c)));
    assert.match(blocksOf(updated), /Denied\* by bob@example.com \(Slack\) at .*: not during the freeze/);
    assert.deepEqual(store.decisions(request.id), [{ person: "bob@example.com", decision: "deny", via: "slack" }]);
  });

  test("a stranger, a Slack user Slack does not know, a forged button: each acknowledged, answered, and nothing changes", { timeout: 30_000 }, async () => {
    const { running, posted } = await hold("update orders set status = 'paid' where id = 4 /* socket-refusals */", "socket-refusals");
    const request = store.request("socket-refusals")!;

    await click(posted, SLACK_USERS.stranger, "Approve once");
    await toldTo(SLACK_USERS.stranger, /Airlock does not know mallory@elsewhere\.example: sign in to Airlock once/);
    const forgedUser = { id: "U0FORGED" };
    await click(posted, forgedUser, "Approve once");
    await toldTo(forgedUser, /could not read your Slack profile .*Nothing was changed\.$/);
    const forgedButton = buttonClick(posted, SLACK_USERS.alice.id, { action_id: "airlock.approve.31536000000", value: request.id, text: { text: "Approve for a year" } });
    assert.deepEqual((await slack.send(forgedButton)).payload, {});
    await toldTo(SLACK_USERS.alice, /this request does not offer a grant of that length/);

    assert.equal(store.request("socket-refusals")!.status, "pending");
    assert.deepEqual(store.decisions(request.id), []);
    // Untouched but for its impact preview: no update shows a decision.
    assert.equal((await slack.web.calls("chat.update")).filter((c) => c.args.ts === posted.ts && !/\*Approvals\*\\n0 of 1/.test(blocksOf(c))).length, 0, "the message is untouched");

    await click(posted, SLACK_USERS.bob, "Approve once");
    assert.equal((await running).rowCount, 1);
  });

  for (const how of ["terminate", "refresh"] as const) {
    test(`the socket dropped (${how}): the app opens a new one, and the next click decides`, { timeout: 45_000 }, async () => {
      const before = { opens: await opens(), connections: slack.connections };
      await slack.drop(how);
      await slack.connected(before.connections + 1);
      assert.equal(await opens(), before.opens + 1, "a fresh URL from apps.connections.open");

      const marker = `socket-after-${how}`;
      const { running, posted } = await hold(`update orders set status = 'paid' where id = 5 /* ${marker} */`, marker);
      await click(posted, SLACK_USERS.bob, "Approve once");
      assert.equal((await running).rowCount, 1);
      assert.deepEqual(store.decisions(store.request(marker)!.id), [{ person: "bob@example.com", decision: "approve", via: "slack" }]);
    });
  }

  test("the socket dropped while Slack answers apps.connections.open with 500 and 503: the app keeps trying, reconnects, and Airlock stays up", { timeout: 45_000 }, async () => {
    const before = { opens: await opens(), connections: slack.connections };
    await slack.web.fail({ method: "apps.connections.open", failures: [{ status: 500 }, { status: 503 }] });
    await slack.drop("terminate");
    await slack.connected(before.connections + 1, 30_000);
    assert.deepEqual((await slack.web.calls("apps.connections.open")).slice(-3).map((c) => c.status), [500, 503, 200]);
    assert.equal(await opens(), before.opens + 1);

    const { running, posted } = await hold("update orders set status = 'paid' where id = 6 /* socket-after-outage */", "socket-after-outage");
    await click(posted, SLACK_USERS.bob, "Approve once");
    assert.equal((await running).rowCount, 1);
    const exited = await Promise.race([airlock.exited, new Promise((r) => setTimeout(() => r("running"), 100))]);
    assert.equal(exited, "running", `Airlock is still running; it printed:\n${airlock.output().slice(-3000)}`);
  });
});
