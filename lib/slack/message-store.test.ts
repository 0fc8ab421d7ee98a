import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { webApi } from "@slack/bolt";
import { startPostgres, type TestPostgres } from "../../test/support/postgres";
import { about, startSlackStandIn, STAND_IN_BOT_TOKEN, succeeded, type SlackStandIn } from "../../test/support/slack-stand-in";
import { openTestPostgresStore, type TestStore } from "../../test/support/store";
import { makeTempDir } from "../../test/support/temp-dir";
import { GrantStore } from "../approvals/grants";
import { ApprovalService } from "../approvals/service";
import { heldUpdate } from "../approvals/testing";
import { openStore, type Store } from "../db/client";
import { EventBus } from "../events/bus";
import { webClientOptions } from "./app";
import { SlackMessageStore } from "./message-store";
import { SlackRollupStore } from "./rollup-store";
import { SlackSync } from "./sync";

/** Three instances on one PostgreSQL store: each its own Store (pool), as separate processes have. */
const INSTANCES = 3;
let server: TestPostgres;
let primary: TestStore;
let stores: Store[];
const dir = makeTempDir("slack-race");

before(async () => {
  server = await startPostgres();
  primary = await openTestPostgresStore(server);
  stores = [primary.store];
  for (let i = 1; i < INSTANCES; i++) stores.push(await openStore({ dataDir: dir.path, url: primary.url }));
});
after(async () => {
  for (const store of stores.slice(1)) await store.close();
  await primary?.close();
  await server?.stop();
  dir.remove();
});

/** The one result of racing instances that is not undefined (asserting there is exactly one). */
function theOne<T>(results: Array<T | undefined>, what: string): T {
  const won = results.filter((r) => r !== undefined);
  assert.equal(won.length, 1, `exactly one instance ${what}`);
  return won[0]!;
}

test("instances racing to record a request's first message: one records it (and posts), the others leave it", async () => {
  const messages = stores.map((s) => new SlackMessageStore(s));
  for (let i = 0; i < 20; i++) {
    const request = { id: `r_first${i}`, agentId: "race-agent" };
    const rows = await Promise.all(messages.map((m) => m.first(request, "#approvals", () => true)));
    assert.equal(theOne(rows, "records it").state, "sending");
  }
});

test("instances racing to claim a message as they read it: one holds it; a holder whose hold was taken over writes nothing", async () => {
  const messages = stores.map((s) => new SlackMessageStore(s));
  const request = { id: "r_claim", agentId: "race-agent" };
  const first = (await messages[0].first(request, "#approvals", () => true))!;
  assert.ok(await messages[0].sent(request.id, { at: first.updatedAt.getTime(), ts: null }, "pending:0", { channel: "C1", ts: "1.1" }));

  for (let round = 0; round < 10; round++) {
    const seen = await Promise.all(messages.map((m) => m.get(request.id)));
    const holds = await Promise.all(messages.map((m, i) => m.claim(seen[i]!, 1)));
    const hold = theOne(holds, "holds it");
    const holder = holds.indexOf(hold);
    assert.ok(await messages[holder].sent(request.id, hold, `pending:${round}`), "the holder's write is kept");
  }

  // A holder stalls past its hold; another instance takes the message over; the first one's late write changes nothing.
  const seen = (await messages[0].get(request.id))!;
  const stalled = (await messages[0].claim(seen, 1))!;
  await stores[1].sql.run("update slack_messages set updated_at = ? where request_id = ?", [Date.now() - 1, request.id]);
  const taken = (await messages[1].claim((await messages[1].get(request.id))!, 1))!;
  assert.equal(await messages[0].sent(request.id, stalled, "pending:old"), false);
  assert.equal(await messages[0].failed(request.id, stalled, "late", Date.now() + 1000), undefined);
  assert.ok(await messages[1].sent(request.id, taken, "approved:1"));
  assert.equal((await messages[2].get(request.id))!.shown, "approved:1");
});

test("instances racing for an agent's summary: one posts it, one at a time updates it", async () => {
  const rollups = stores.map((s) => new SlackRollupStore(s));
  const holds = await Promise.all(rollups.map((r) => r.claim("#approvals", "race-agent", undefined)));
  const hold = theOne(holds, "posts the summary");
  assert.ok(await rollups[holds.indexOf(hold)].sent("#approvals", "race-agent", hold, "2", { postedChannel: "C1", ts: "2.2" }));
  for (let round = 0; round < 10; round++) {
    const seen = await Promise.all(rollups.map((r) => r.get("#approvals", "race-agent")));
    const claims = await Promise.all(rollups.map((r, i) => r.claim("#approvals", "race-agent", seen[i])));
    const won = theOne(claims, "updates it");
    assert.ok(await rollups[claims.indexOf(won)].sent("#approvals", "race-agent", won, String(round)));
  }
});

test(`${INSTANCES} instances hearing every change of a request: one message is posted, and it ends showing the request as it is`, async () => {
  const slack: SlackStandIn = await startSlackStandIn();
  const bus = new EventBus();
  const approvals = new ApprovalService(primary.store, new GrantStore(primary.store, bus), bus);
  const syncs = stores.map((store) =>
    new SlackSync({
      client: new webApi.WebClient(STAND_IN_BOT_TOKEN, webClientOptions(slack.apiUrl)),
      messages: new SlackMessageStore(store),
      rollups: new SlackRollupStore(store),
      approvals,
      bus: new EventBus(),
      channelFor: () => "#approvals",
      requestUrl: (id) => `http://airlock.test/requests/${id}`,
      queueUrl: (agentId) => `http://airlock.test/?agent=${agentId}`,
    }).start(),
  );
  // Each instance hears every change, as over the shared bus.
  const everywhere = (requestId: string) => syncs.forEach((s) => s.queue(requestId));
  const idle = () => Promise.all(syncs.map((s) => s.idle()));
  try {
    const requests = [];
    for (let i = 0; i < 3; i++) {
      const request = await approvals.open(heldUpdate({ agentId: `race-agent-${i}`, statements: [{ text: `update orders set note = 'race-${i}-' where id = 1`, params: null }], grantOptions: ["once"] }));
      everywhere(request.id);
      requests.push(request);
    }
    await idle();
    for (const [i, request] of requests.entries()) {
      assert.equal((await slack.calls("chat.postMessage")).filter(about(`race-${i}-`)).length, 1, `one post for ${request.id}`);
      everywhere(request.id);
    }
    await idle();
    assert.equal((await slack.calls("chat.postMessage")).filter((c) => /race-\d-/.test(JSON.stringify(c.args))).length, 3, "hearing again posts nothing");

    // Decisions heard by every instance while their updates are under way: the last update shows the last state.
    const [request] = requests;
    const posted = await slack.waitFor("chat.postMessage", succeeded("race-0-"));
    everywhere(request.id);
    await approvals.decide({ requestId: request.id, person: { email: "alice@example.com", groups: ["db-approvers"], role: "approver" }, action: "approve", via: "web" });
    everywhere(request.id);
    await idle();
    const updates = (await slack.calls("chat.update")).filter((c) => c.args.ts === posted.ts);
    assert.match(updates.at(-1)!.args.text, /approved by alice@example.com/);
    assert.equal((await new SlackMessageStore(stores[2]).get(request.id))!.shown, "approved:1");
  } finally {
    syncs.forEach((s) => s.close());
    approvals.close();
    await slack.close();
  }
});
