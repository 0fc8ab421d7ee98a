import { after, before, beforeEach, test } from "node:test";
import assert from "node:assert/strict";
import { webApi } from "@slack/bolt";
import { about, startSlackStandIn, STAND_IN_BOT_TOKEN, succeeded, type SlackStandIn } from "../../test/support/slack-stand-in";
import { makeTempDir } from "../../test/support/temp-dir";
import { GrantStore } from "../approvals/grants";
import type { Decider } from "../approvals/people";
import { ApprovalService, type NewRequest } from "../approvals/service";
import { heldUpdate } from "../approvals/testing";
import { openStore, type Store } from "../db/client";
import { EventBus } from "../events/bus";
import { webClientOptions } from "./app";
import { SlackMessageStore } from "./message-store";
import { SlackRollupStore } from "./rollup-store";
import { SlackSync, type SlackSyncOptions } from "./sync";
import { OWN_AT_ONCE } from "./throttle";

const dir = makeTempDir("slack-sync");
const alice: Decider = { email: "alice@example.com", groups: ["db-approvers"], role: "approver" };
let slack: SlackStandIn;
let store: Store;
let bus: EventBus;
let approvals: ApprovalService;
let messages: SlackMessageStore;
let sync: SlackSync;
let n = 0;

before(async () => {
  slack = await startSlackStandIn();
});
after(async () => {
  sync?.close();
  approvals?.close();
  await store?.close();
  await slack.close();
  dir.remove();
});
beforeEach(async () => {
  sync?.close();
  approvals?.close();
  await store?.close();
  store = await openStore({ dataDir: `${dir.path}/${n++}`, migrationsFolder: "drizzle" });
  bus = new EventBus();
  approvals = new ApprovalService(store, new GrantStore(store, bus), bus);
  messages = new SlackMessageStore(store);
  sync = startSync("#approvals");
});

function startSync(channel: string | undefined, overrides: Partial<SlackSyncOptions> = {}): SlackSync {
  return new SlackSync({
    client: new webApi.WebClient(STAND_IN_BOT_TOKEN, webClientOptions(slack.apiUrl)),
    messages,
    rollups: new SlackRollupStore(store),
    approvals,
    bus,
    channelFor: () => channel,
    requestUrl: (id) => `http://airlock.test/requests/${id}`,
    queueUrl: (agentId) => `http://airlock.test/?agent=${agentId}`,
    ...overrides,
  }).start();
}

/** A held statement; `marker` makes its calls easy to find and to fail on purpose. */
function open(marker: string, overrides: Partial<NewRequest> = {}) {
  return approvals.open(heldUpdate({ statements: [{ text: `update orders set note = '${marker}' where id = 1`, params: null }], grantOptions: ["once"], ...overrides }));
}


test("a new request is posted; a decision updates the same message; the channel and ts are kept", async () => {
  const request = await open("sync-basic");
  const posted = await slack.waitFor("chat.postMessage", succeeded("sync-basic"));
  assert.equal(posted.args.channel, "#approvals");
  await sync.idle();
  assert.deepEqual({ ...(await messages.get(request.id)), updatedAt: undefined }, { requestId: request.id, channel: posted.channel, ts: posted.ts, state: "sent", shown: "pending:0", error: null, attempts: 1, updatedAt: undefined });

  await approvals.decide({ requestId: request.id, person: alice, action: "approve", via: "web" });
  const updated = await slack.waitFor("chat.update", (c) => c.args.ts === posted.ts);
  assert.equal(updated.args.channel, posted.channel, "chat.update gets the channel id Slack answered with");
  assert.match(updated.args.text, /approved by alice@example.com/);
  await sync.idle();
  assert.equal((await messages.get(request.id))!.shown, "approved:1");
});

/**
 * An instance (a SlackSync of its own, deaf to this store's bus) whose read of the request is slow:
 * it reads the request, says so, and waits for `resume` (a pause, a slow store) before going on.
 */
function slowReader() {
  let read!: () => void;
  let resume!: () => void;
  const hasRead = new Promise<void>((r) => (read = r));
  const resumed = new Promise<void>((r) => (resume = r));
  const get = async (id: string) => {
    const found = await approvals.get(id);
    read();
    await resumed;
    return found;
  };
  const sync = startSync("#approvals", { bus: new EventBus(), approvals: { get, decisions: (id) => approvals.decisions(id) } });
  return { sync, hasRead, resume };
}

test("an instance that read a request before another showed a newer state leaves the message as shown, never a state back", async () => {
  const request = await open("sync-stale-read");
  const posted = await slack.waitFor("chat.postMessage", succeeded("sync-stale-read"));
  await sync.idle();
  const slow = slowReader();
  try {
    slow.sync.queue(request.id);
    await slow.hasRead;
    // A change without a decision: this instance shows it while the slow one still holds "pending".
    await approvals.cancel(request.id, "withdrawn");
    await slack.waitFor("chat.update", (c) => c.args.ts === posted.ts);
    await sync.idle();
    slow.resume();
    await slow.sync.idle();
    const updates = (await slack.calls("chat.update")).filter((c) => c.args.ts === posted.ts);
    assert.deepEqual(updates.map((c) => /cancelled/.test(c.args.text)), [true], "one update, to cancelled");
  } finally {
    slow.sync.close();
  }
});

test("a decision made while the request is read is shown whole: never pending with all its approvals", async () => {
  const request = await open("sync-torn-read", { requiredApprovals: 2 });
  const posted = await slack.waitFor("chat.postMessage", succeeded("sync-torn-read"));
  await approvals.decide({ requestId: request.id, person: alice, action: "approve", via: "web" });
  await slack.waitFor("chat.update", (c) => c.args.ts === posted.ts);
  await sync.idle();
  sync.close();
  const slow = slowReader();
  try {
    slow.sync.queue(request.id);
    await slow.hasRead;
    // The last approval, with the status it brings, lands between the slow reader's reads.
    await approvals.decide({ requestId: request.id, person: { ...alice, email: "bob@example.com" }, action: "approve", via: "web" });
    slow.resume();
    await slow.sync.idle();
    const updates = (await slack.calls("chat.update")).filter((c) => c.args.ts === posted.ts).map((c) => JSON.stringify(c.args.blocks));
    assert.equal(updates.length, 2, "approved so far by alice, then approved");
    assert.match(updates[1], /\*Approved\* by alice@example.com \(web, once\), bob@example.com \(web, once\)/);
  } finally {
    slow.sync.close();
  }
});

test("errors and rate limits: the post is retried with backoff and after Retry-After; deciding never waits for Slack", async () => {
  await slack.fail({ method: "chat.postMessage", matching: "sync-flaky", failures: [{ status: 500 }, { retryAfter: 1 }] });
  const request = await open("sync-flaky");
  await slack.waitFor("chat.postMessage", (c) => about("sync-flaky")(c) && c.status === 429);
  assert.match((await messages.get(request.id))!.error!, /rate limited \(Retry-After 1 s\)/, "the failure is recorded for the request page");
  assert.equal((await messages.get(request.id))!.state, "sending", "still trying");

  const started = performance.now();
  assert.ok((await approvals.decide({ requestId: request.id, person: alice, action: "approve", via: "web" })).ok);
  assert.ok(performance.now() - started < 50, "a decision does not wait for Slack");

  await sync.idle();
  const attempts = (await slack.calls("chat.postMessage")).filter(about("sync-flaky"));
  assert.deepEqual(attempts.map((c) => c.status), [500, 429], "a request decided before its first post got through is not posted late");
  assert.ok(attempts[1].at - attempts[0].at >= 900, `backoff before the second attempt (${attempts[1].at - attempts[0].at} ms)`);
  assert.equal((await messages.get(request.id))!.state, "failed");
  assert.match((await messages.get(request.id))!.error!, /rate limited.*the request was approved before Slack answered/);
});

test("a post that fails and then succeeds is recorded as sent, after waiting out Retry-After", async () => {
  await slack.fail({ method: "chat.postMessage", matching: "sync-later", failures: [{ retryAfter: 1 }, { error: "internal_error" }] });
  const request = await open("sync-later");
  await slack.waitFor("chat.postMessage", succeeded("sync-later"));
  const attempts = (await slack.calls("chat.postMessage")).filter(about("sync-later"));
  assert.deepEqual(attempts.map((c) => c.error ?? c.status), ["ratelimited", "internal_error", 200]);
  assert.ok(attempts[1].at - attempts[0].at >= 1000, "Retry-After honoured");
  await sync.idle();
  assert.equal((await messages.get(request.id))!.state, "sent");
  assert.equal((await messages.get(request.id))!.error, null);
});

test("a permanent error is not retried; the request is still decided as usual", async () => {
  await slack.fail({ method: "chat.postMessage", matching: "sync-nochannel", failures: [{ error: "channel_not_found" }] });
  const request = await open("sync-nochannel");
  await slack.waitFor("chat.postMessage", about("sync-nochannel"));
  await sync.idle();
  assert.equal((await messages.get(request.id))!.state, "failed");
  assert.equal((await messages.get(request.id))!.error, "post failed: channel_not_found");
  assert.equal((await slack.calls("chat.postMessage")).filter(about("sync-nochannel")).length, 1);
  assert.ok((await approvals.decide({ requestId: request.id, person: alice, action: "deny", reason: "no", via: "web" })).ok);
});

test("with no channel configured, nothing is posted and the request says why", async () => {
  sync.close();
  sync = startSync(undefined);
  const request = await open("sync-unset");
  await sync.idle();
  assert.match((await messages.get(request.id))!.error!, /no Slack channel: set SLACK_CHANNEL/);
  assert.equal((await slack.calls("chat.postMessage")).filter(about("sync-unset")).length, 0);
});

test("after a restart, a message whose request changed meanwhile is updated in place", async () => {
  const request = await open("sync-restart");
  const posted = await slack.waitFor("chat.postMessage", succeeded("sync-restart"));
  await sync.idle();
  // Airlock stops; at the next start the request is cancelled before Slack listens again.
  sync.close();
  await approvals.cancelOrphans();
  sync = startSync("#approvals");
  const updated = await slack.waitFor("chat.update", (c) => c.args.ts === posted.ts);
  assert.equal(updated.args.channel, posted.channel);
  assert.match(JSON.stringify(updated.args.blocks), /Cancelled\* at .*Airlock restarted/);
  await sync.idle();
  assert.equal((await messages.get(request.id))!.shown, "cancelled:0");
});

test("a burst from one agent: OWN_AT_ONCE messages of their own and one summary counting the rest, updated as they go; another agent's request is posted at once", async () => {
  const posts = async () => (await slack.calls("chat.postMessage")).filter((c) => c.args.text.includes("burst-agent"));
  const burst = [];
  for (let i = 0; i < 10; i++) burst.push(await open(`sync-burst-${i}-`, { agentId: "burst-agent" }));
  const calmOpened = Date.now();
  await open("sync-calm", { agentId: "calm-agent" });
  for (let i = 10; i < 20; i++) burst.push(await open(`sync-burst-${i}-`, { agentId: "burst-agent" }));
  const calm = await slack.waitFor("chat.postMessage", succeeded("sync-calm"));
  assert.ok(calm.at - calmOpened < 1_000, `the other agent's request is not held back (${calm.at - calmOpened} ms)`);
  await sync.idle();

  const all = await posts();
  assert.equal(all.length, OWN_AT_ONCE + 1, "twenty requests, four posts");
  const own = all.slice(0, OWN_AT_ONCE);
  const summary = all[OWN_AT_ONCE];
  assert.deepEqual(own.map((c) => [0, 1, 2].find((i) => about(`sync-burst-${i}-`)(c))), [0, 1, 2], "the first of the burst have messages of their own");
  // Posted as the burst came in, then updated in place: it ends up counting the seventeen.
  const shown = (await slack.calls("chat.update")).filter((c) => c.args.ts === summary.ts).at(-1) ?? summary;
  assert.equal(shown.args.text, "Airlock: and 17 more requests from burst-agent");
  assert.match(JSON.stringify(shown.args.blocks), /…and \*17 more requests\* from \*burst-agent\* — <http:\/\/airlock.test\/\?agent=burst-agent\|open the queue>/);
  assert.ok(!JSON.stringify(shown.args.blocks).includes('"actions"'), "no buttons: one click never decides many");
  const seventh = (await messages.get(burst[7].id))!;
  assert.deepEqual({ state: seventh.state, channel: seventh.channel }, { state: "rolled_up", channel: "#approvals" });

  // As they come and go, the summary is updated in place; a late one while it counts joins it.
  for (const r of burst.slice(3, 6)) await approvals.cancel(r.id, "withdrawn");
  await approvals.decide({ requestId: burst[6].id, person: alice, action: "approve", via: "web" });
  await open("sync-burst-late", { agentId: "burst-agent" });
  await sync.idle();
  const updates = (await slack.calls("chat.update")).filter((c) => c.args.ts === summary.ts);
  assert.equal(updates.at(-1)!.args.text, "Airlock: and 14 more requests from burst-agent");
  assert.equal((await posts()).length, OWN_AT_ONCE + 1, "no new post");

  // Once none is waiting the summary says so, and the agent's next request has a message of its own again.
  for (const r of [...burst.slice(0, 3), ...burst.slice(7)]) await approvals.cancel(r.id, "withdrawn");
  await approvals.cancel((await approvals.list("pending", 10, { agentId: "burst-agent" }))[0].id, "withdrawn");
  await sync.idle();
  assert.match((await slack.calls("chat.update")).filter((c) => c.args.ts === summary.ts).at(-1)!.args.text, /no more rolled-up requests from burst-agent/);
  await open("sync-burst-after", { agentId: "burst-agent" });
  await slack.waitFor("chat.postMessage", succeeded("sync-burst-after"));
  await sync.idle();
  assert.equal((await posts()).length, OWN_AT_ONCE + 2);
});

test("after a restart, a summary whose requests ended meanwhile is updated in place", async () => {
  for (let i = 0; i < OWN_AT_ONCE + 2; i++) await open(`sync-rollup-restart-${i}-`, { agentId: "restart-agent" });
  await sync.idle();
  const summary = await slack.waitFor("chat.postMessage", (c) => /more requests? from restart-agent/.test(c.args.text));
  sync.close();
  await approvals.cancelOrphans();
  sync = startSync("#approvals");
  await slack.waitFor("chat.update", (c) => c.args.ts === summary.ts && /no more rolled-up requests/.test(c.args.text));
});
