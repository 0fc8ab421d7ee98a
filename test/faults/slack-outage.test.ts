/**
 * Issue 23, Slack's Web API is slow or failing while requests are decided on the web: `npm start`
 * as users run it, Slack pointed at the stand-in. Verified: a decision made in the browser (the
 * dashboard's server action, signed in as alice) releases the held agent at once, while Slack is
 * still answering (slowly) or failing — Slack is beside the data path, never in it; and the
 * messages catch up once Slack answers: the slow post lands once, then the update that shows the
 * decision; failed updates (HTTP 503, 429 with Retry-After, `ok: false`) are retried until one lands.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import type pg from "pg";
import { CALL_TIMEOUT_MS } from "../../lib/slack/lease";
import type { RunningAirlock } from "../support/airlock-server";
import { callServerAction } from "../support/server-actions";
import { about, startSlackStandIn, succeeded, type SlackCall, type SlackStandIn } from "../support/slack-stand-in";
import { makeTempDir } from "../support/temp-dir";
import { signInOverHttp } from "../web/http-session";
import { connectAgent, readStore, startAirlockWithSlack } from "../slack/setup";

/** How late the slow Slack answers: long, but inside the client's own timeout, so the call is answered rather than cut off and retried. */
const SLOW_MS = CALL_TIMEOUT_MS - 2_000;
/** Retries back off 1 s, 2 s, 4 s… and honour Retry-After: the messages catch up within this. */
const CATCH_UP_MS = 45_000;
const TEST_TIMEOUT_MS = 120_000;

const dir = makeTempDir("slack-outage");
let slack: SlackStandIn;
let airlock: RunningAirlock;
let agent: { client: pg.Client; notices: string[] };
let store: ReturnType<typeof readStore>;
let cookie: string;

before(
  async () => {
    slack = await startSlackStandIn();
    airlock = await startAirlockWithSlack(slack, dir.path);
    agent = await connectAgent(airlock);
    store = readStore(airlock);
    cookie = await signInOverHttp(airlock.url, "alice@example.com");
  },
  { timeout: TEST_TIMEOUT_MS },
);
after(async () => {
  store?.close();
  await agent?.client.end().catch(() => undefined);
  await airlock?.stop();
  await slack?.close();
  dir.remove();
});

/** Holds `sql` on the agent's connection; resolves with when its result came. */
function hold(sql: string): Promise<{ rows: number | null; at: number }> {
  const running = agent.client.query(sql).then((r) => ({ rows: r.rowCount, at: Date.now() }));
  running.catch(() => undefined);
  return running;
}

/** Alice approves once in the dashboard, as her browser would; resolves, once the action answered, with when she clicked. */
async function approveOnTheWeb(marker: string): Promise<number> {
  const request = store.request(marker);
  assert.ok(request, `a request for ${marker}`);
  const clickedAt = Date.now();
  const text = await callServerAction(airlock, cookie, "decideRequest", `/requests/${request.id}`, { requestId: request.id, decision: "approve:once" });
  assert.match(text, /Request approved/);
  return clickedAt;
}

const sameCall = (a: SlackCall) => (b: SlackCall) => a.method === b.method && a.at === b.at && a.answeredAt === b.answeredAt;

const showsApproval = (marker: string, posted: SlackCall) => (call: SlackCall) =>
  succeeded(marker)(call) && call.args.ts === posted.ts && /Approved\* by alice@example\.com/.test(JSON.stringify(call.args.blocks));

test("Slack answers slowly: a web decision releases the agent before Slack has answered the post; the post lands once, then the update", { timeout: TEST_TIMEOUT_MS }, async () => {
  const marker = "slack-slow-post";
  await slack.fail({ method: "chat.postMessage", matching: marker, failures: [{ delayMs: SLOW_MS }] });
  const running = hold(`update orders set status = 'paid' where id = 5 /* ${marker} */`);
  const inFlight = await slack.waitFor("chat.postMessage", about(marker));
  assert.equal(inFlight.answeredAt, undefined, "Slack has the post and is slow to answer");

  const decidedAt = await approveOnTheWeb(marker);
  const released = await running;
  assert.equal(released.rows, 1, "the statement ran");
  const post = (await slack.calls("chat.postMessage")).find(about(marker))!;
  console.log(`slow Slack: released ${released.at - decidedAt} ms after the web decision; the post, asked ${released.at - inFlight.at} ms before, was ${post.answeredAt ? `answered ${post.answeredAt - released.at} ms later` : "still unanswered"}`);
  assert.ok(post.answeredAt === undefined || post.answeredAt > released.at, "the agent did not wait for Slack");

  const posted = await slack.waitFor("chat.postMessage", succeeded(marker), CATCH_UP_MS);
  const updated = await slack.waitFor("chat.update", showsApproval(marker, posted), CATCH_UP_MS);
  console.log(`slow Slack: posted ${posted.answeredAt! - inFlight.at} ms after it was asked; the decision shown ${updated.answeredAt! - decidedAt} ms after it was made`);
  assert.equal((await slack.calls("chat.postMessage")).filter(about(marker)).length, 1, "posted once, not again on top of the slow answer");
});

test("Slack fails the updates (503, 429 Retry-After, ok:false): a web decision releases the agent at once; the update is retried until it lands", { timeout: TEST_TIMEOUT_MS }, async () => {
  const marker = "slack-failing-update";
  await slack.fail({ method: "chat.update", matching: marker, failures: [{ status: 503 }, { retryAfter: 1 }, { error: "internal_error" }] });
  const running = hold(`update orders set status = 'paid' where id = 6 /* ${marker} */`);
  const posted = await slack.waitFor("chat.postMessage", succeeded(marker));

  const decidedAt = await approveOnTheWeb(marker);
  const released = await running;
  assert.equal(released.rows, 1, "the statement ran");
  // An update showing the decision (the message is also updated once its impact preview is made).
  const landedBefore = (await slack.calls("chat.update")).filter((c) => succeeded(marker)(c) && /Approved/.test(JSON.stringify(c.args.blocks)) && c.answeredAt! <= released.at);
  assert.deepEqual(landedBefore, [], "released before any update got through: the agent did not wait for Slack");

  const updated = await slack.waitFor("chat.update", showsApproval(marker, posted), CATCH_UP_MS);
  const tries = (await slack.calls("chat.update")).filter(about(marker));
  console.log(`failing Slack: released ${released.at - decidedAt} ms after the web decision; the update landed ${updated.answeredAt! - decidedAt} ms after it, at try ${tries.findIndex(sameCall(updated)) + 1}`);
  assert.deepEqual(
    tries.slice(0, 3).map((c) => c.error),
    ["HTTP 503", "ratelimited", "internal_error"],
    "each failure met, then retried",
  );
  assert.equal((await slack.calls("chat.postMessage")).filter(about(marker)).length, 1, "one message, updated in place");
});

test("Slack fails the first posts (500, ok:false): the post is retried until it lands while the agent waits for people; the web releases it", { timeout: TEST_TIMEOUT_MS }, async () => {
  const marker = "slack-failing-post";
  await slack.fail({ method: "chat.postMessage", matching: marker, failures: [{ status: 500 }, { error: "service_unavailable" }] });
  const running = hold(`update orders set status = 'paid' where id = 7 /* ${marker} */`);
  const posted = await slack.waitFor("chat.postMessage", succeeded(marker), CATCH_UP_MS);
  const tries = (await slack.calls("chat.postMessage")).filter(about(marker));
  assert.deepEqual(
    tries.map((c) => c.error),
    ["HTTP 500", "service_unavailable", undefined],
    "each failure met, then retried, then posted once",
  );
  assert.equal(await Promise.race([running.then(() => "ran"), Promise.resolve("waiting")]), "waiting", "still held for people");

  const decidedAt = await approveOnTheWeb(marker);
  const released = await running;
  assert.equal(released.rows, 1, "the statement ran");
  const updated = await slack.waitFor("chat.update", showsApproval(marker, posted), CATCH_UP_MS);
  console.log(`failing posts: posted ${posted.answeredAt! - tries[0].at} ms after the first try; released ${released.at - decidedAt} ms after the web decision, shown in Slack ${updated.answeredAt! - decidedAt} ms after it`);
});
