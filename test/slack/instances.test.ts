/**
 * Issue 16, Slack: three `npm start` instances on one PostgreSQL store and one Slack (the stand-in:
 * one channel, one signing secret). Every instance hears every change to every request, and each
 * could call Slack about it; counting the stand-in's calls shows one post per request, a click
 * deciding wherever it lands, and each message's updates in order, never back to an older state.
 * Agents' statements are held on all three (real pg clients through each instance's proxy) on a
 * `type: postgres` resource, since a pglite:// one is per instance.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import pg from "pg";
import { OWN_AT_ONCE } from "../../lib/slack/throttle";
import { agentToken, api, type ApiAnswer } from "../access/setup";
import type { RunningAirlock } from "../support/airlock-server";
import { adminQuery, startPostgres, type TestPostgres } from "../support/postgres";
import { buttonClick, buttonIn, denySubmission, postInteraction } from "../support/slack-interactions";
import { SLACK_USERS, startSlackStandIn, succeeded, type SlackCall, type SlackStandIn } from "../support/slack-stand-in";
import { createStoreDatabase } from "../support/store";
import { makeTempDir } from "../support/temp-dir";
import { connectAgent, startSlackInstances } from "./setup";

const INSTANCES = 3;

const dir = makeTempDir("slack-instances");
let server: TestPostgres;
let slack: SlackStandIn;
let airlocks: RunningAirlock[];
/** reporting-agent on each instance's proxy, in the instances' order. */
let agents: Array<{ client: pg.Client }>;

before(async () => {
  [server, slack] = await Promise.all([startPostgres(), startSlackStandIn()]);
  await adminQuery(server, "create table counters (id int primary key, n int); insert into counters select g, 0 from generate_series(1, 100) g");
  const policy = [
    "resources:",
    `  pg: { type: postgres, url: "${server.url}" }`,
    "rules:",
    "  - { name: agents-read, match: { groups: [agents], kinds: [select] }, action: allow }",
    "  - name: agents-write",
    "    match: { groups: [agents], kinds: [update] }",
    "    action: review",
    "    review: { approvers: [db-approvers], grants: [once, 15m], timeout: 5m }",
    "    access: { max: 1h }",
    "  - name: two-approvers",
    "    match: { groups: [agents], kinds: [delete] }",
    "    action: review",
    "    review: { approvers: [db-approvers], count: 2, grants: [once], timeout: 5m }",
    "",
  ].join("\n");
  airlocks = await startSlackInstances(slack, dir.path, { count: INSTANCES, storeUrl: await createStoreDatabase(server), policy });
  agents = await Promise.all(airlocks.map((airlock) => connectAgent(airlock, "pg", "reporting-agent", airlocks[0])));
});
after(async () => {
  await Promise.all((agents ?? []).map((a) => a.client.end().catch(() => undefined)));
  await Promise.all((airlocks ?? []).map((a) => a.stop()));
  await slack?.close();
  await server?.stop();
  dir.remove();
});

/** The instance after `n`, round the three: where a click on n's statement is delivered. */
const other = (n: number, step = 1) => airlocks[(n + step) % INSTANCES];

/** Runs `sql` on instance n's agent and returns the one message posted for it. */
async function hold(n: number, sql: string, marker: string): Promise<{ running: Promise<pg.QueryResult>; posted: SlackCall }> {
  const running = agents[n].client.query(sql);
  running.catch(() => undefined);
  return { running, posted: await slack.waitFor("chat.postMessage", succeeded(marker)) };
}

async function click(airlock: RunningAirlock, posted: SlackCall, user: { id: string }, label: string): Promise<void> {
  const response = await postInteraction(airlock.url, buttonClick(posted, user.id, buttonIn(posted, label)));
  assert.equal(response.status, 200, "acknowledged");
}

/**
 * What a message shows, read back from the blocks Airlock sent: the outcome and the approvals so
 * far. `rank` orders the states a request goes through (pending with more approvals, then decided).
 */
function stateOf(call: SlackCall): { label: string; rank: number } {
  const blocks = JSON.stringify(call.args.blocks);
  const approvals = Number(/\*Approvals\*\\n(\d+) of/.exec(blocks)?.[1]);
  const outcome = /\*(Approved|Denied|Expired|Cancelled)\*/.exec(blocks)?.[1]?.toLowerCase();
  return { label: `${outcome ?? "pending"} ${approvals}`, rank: (outcome ? 100 : 0) + approvals };
}

/**
 * Every call that wrote the message `posted`, in the order the stand-in received them: the post,
 * then its updates. Waits until Slack has heard nothing for a while, so the count is final.
 */
async function historyOf(posted: SlackCall): Promise<{ posts: number; states: string[] }> {
  const calls = await slack.settled();
  const writes = calls.filter((c) => c.status === 200 && !c.error && c.args.ts === posted.ts && c.method === "chat.update");
  const posts = calls.filter((c) => c.method === "chat.postMessage" && c.status === 200 && !c.error && c.args.text === posted.args.text);
  // The update that adds the impact preview (lib/approvals/preview) changes no state: it is left out, once.
  const impact = writes.findIndex((c) => JSON.stringify(c.args.blocks).includes("*Impact*"));
  const previous = impact > 0 ? writes[impact - 1] : posted;
  const shown = impact >= 0 && stateOf(writes[impact]).label === stateOf(previous).label ? writes.filter((_, i) => i !== impact) : writes;
  const states = [posted, ...shown].map(stateOf);
  for (let i = 1; i < states.length; i++) {
    assert.ok(states[i].rank > states[i - 1].rank, `update ${i} of ${posted.ts} shows "${states[i].label}" after "${states[i - 1].label}": ${states.map((s) => s.label).join(" → ")}`);
  }
  return { posts: posts.length, states: states.map((s) => s.label) };
}

test("a statement held on each instance: one post each; the approve click, delivered to another instance, releases it; one update to approved", async () => {
  const held = await Promise.all(airlocks.map((_, n) => hold(n, `update counters set n = n + 1 where id = ${n + 1} /* slack-instances-${n} */`, `slack-instances-${n}`)));
  // Each click lands on the next instance; the first also lands on the one after at the same moment (a retry through a balancer).
  await Promise.all([...held.map(({ posted }, n) => click(other(n), posted, SLACK_USERS.bob, "Approve once")), click(other(0, 2), held[0].posted, SLACK_USERS.bob, "Approve once")]);
  for (const { running } of held) assert.equal((await running).rowCount, 1, "the statement ran on its own instance");

  for (const { posted } of held) {
    const { posts, states } = await historyOf(posted);
    assert.equal(posts, 1, "one message for the request, whatever the number of instances");
    // One update per change after the post: the request changed once (pending → approved by bob).
    assert.deepEqual(states, ["pending 0", "approved 1"]);
  }
  const requestId = buttonIn(held[0].posted, "Approve once").value;
  const second = await slack.waitFor("chat.postEphemeral", (c) => c.args.user === SLACK_USERS.bob.id && c.args.text.startsWith(requestId));
  assert.match(second.args.text, /already approved by bob@example\.com/, "the click delivered twice decided once, and the other instance said so");
});

test("two approvers clicking at once on two instances other than the holder's: each message climbs 0 → 1 → approved, never back", async () => {
  const updates: number[] = [];
  for (let round = 0; round < 6; round++) {
    const n = round % INSTANCES;
    const marker = `slack-two-${round}`;
    const { running, posted } = await hold(n, `delete from counters where id = ${90 + round} /* ${marker} */`, marker);
    await Promise.all([click(other(n, 1), posted, SLACK_USERS.bob, "Approve once"), click(other(n, 2), posted, SLACK_USERS.alice, "Approve once")]);
    assert.equal((await running).rowCount, 1);
    const { posts, states } = await historyOf(posted);
    assert.equal(posts, 1);
    // At most one update per decision (two), each showing a state the request was in; the two may be shown in one, if the second came before the first was shown.
    assert.ok([["pending 0", "pending 1", "approved 2"], ["pending 0", "approved 2"]].some((ok) => ok.join() === states.join()), states.join(" → "));
    updates.push(states.length - 1);
  }
  console.log(`# two approvers on two instances, ${updates.length} rounds: updates per message ${updates.join(", ")}`);
});

test("Deny clicked on one instance opens the form; submitted to another, it refuses the statement held on a third", async () => {
  const { running, posted } = await hold(0, "update counters set n = n + 1 where id = 10 /* slack-deny */", "slack-deny");
  const requestId = buttonIn(posted, "Deny").value;
  await click(other(0, 1), posted, SLACK_USERS.alice, "Deny");
  const opened = await slack.waitFor("views.open", (c) => c.args.view.private_metadata === requestId);
  const submitted = await postInteraction(other(0, 2).url, denySubmission(opened, SLACK_USERS.alice.id, "not on a Friday"));
  assert.equal(submitted.status, 200);
  await assert.rejects(running, /denied by alice@example\.com: not on a Friday/);
  const { posts, states } = await historyOf(posted);
  assert.equal(posts, 1);
  assert.deepEqual(states, ["pending 0", "denied 0"]);
});

test("an agent with requests waiting on one instance, then a burst sent to all three at once: OWN_AT_ONCE messages, one summary, no duplicates", async () => {
  const BURST = 15;
  const token = await agentToken(airlocks[0], "ops-agent");
  const ask = (i: number, airlock: RunningAirlock) => api(airlock, token, "POST", "/api/v1/access-requests", { resource: "pg", kinds: ["update"], tables: ["counters"], duration: "10m", reason: `slack-burst ${i}` });
  // The first ones through the first instance (as an agent's connection stays on one), each posted before the next.
  const asks: ApiAnswer[] = [];
  for (let i = 0; i < OWN_AT_ONCE; i++) {
    asks.push(await ask(i, airlocks[0]));
    await slack.waitFor("chat.postMessage", (c) => String(c.args.text).startsWith(`Airlock ${String(asks[i].body.id)}:`));
  }
  // The others weigh the burst though they never posted for this agent: the throttle is the store's, not each instance's.
  asks.push(...(await Promise.all(Array.from({ length: BURST - OWN_AT_ONCE }, (_, i) => ask(OWN_AT_ONCE + i, airlocks[i % INSTANCES])))));
  assert.deepEqual(asks.map((a) => a.status), Array(BURST).fill(201), JSON.stringify(asks.map((a) => a.body)));
  const ids = asks.map((a) => String(a.body.id));

  const calls = await slack.settled(1_500);
  const posts = calls.filter((c) => c.method === "chat.postMessage" && c.status === 200 && !c.error);
  const postsOf = (id: string) => posts.filter((c) => String(c.args.text).startsWith(`Airlock ${id}:`));
  const own = ids.filter((id) => postsOf(id).length > 0);
  for (const id of ids) assert.ok(postsOf(id).length <= 1, `${id} posted ${postsOf(id).length} times`);
  const summaries = posts.filter((c) => /^Airlock: and \d+ more requests? from ops-agent$/.test(c.args.text));
  console.log(`# burst of ${BURST} across ${INSTANCES} instances: ${own.length} messages of their own, ${summaries.length} summary post`);
  assert.equal(own.length, OWN_AT_ONCE, "as many messages of their own as one instance would post");
  assert.equal(summaries.length, 1, "one summary");
  // While the burst comes in the summary only counts up, at most one write per request it takes in.
  const counts = [summaries[0], ...calls.filter((c) => c.method === "chat.update" && c.args.ts === summaries[0].ts)].map((c) => Number(/and (\d+) more/.exec(c.args.text)?.[1]));
  assert.ok(counts.every((count, i) => i === 0 || count > counts[i - 1]), `summary counts ${counts.join(" → ")}`);
  assert.equal(counts.at(-1), BURST - OWN_AT_ONCE, `summary counts ${counts.join(" → ")}`);
  console.log(`# the summary: posted counting ${counts[0]}, then ${counts.length - 1} updates (${counts.join(" → ")})`);

  // Withdrawn on the three instances, the requests' own messages say so once each and the summary that none are waiting.
  for (const [i, id] of ids.entries()) assert.equal((await api(airlocks[i % INSTANCES], token, "DELETE", `/api/v1/access-requests/${id}`)).status, 200);
  for (const id of own) {
    const { posts: again, states } = await historyOf(postsOf(id)[0]);
    assert.equal(again, 1);
    assert.deepEqual(states, ["pending 0", "cancelled 0"]);
  }
  const last = (await slack.calls("chat.update")).filter((c) => c.args.ts === summaries[0].ts).at(-1);
  assert.match(String(last?.args.text), /no more rolled-up requests from ops-agent/);
});
