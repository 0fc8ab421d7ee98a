import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { eachDialect } from "../../test/support/store";
import { openStore, type Store } from "../db/client";
import { EventBus, type AirlockEvent } from "../events/bus";
import { FollowUps, followUpsOf, type FollowUpSent } from "./follow-ups";
import { GrantStore } from "./grants";
import { ApprovalService } from "./service";
import { heldUpdate } from "./testing";

// Reminders every 300 ms, escalation after 700 ms: instances racing for each, and one started later.
const FOLLOW_UP = { remindMs: 300, escalate: { afterMs: 700, to: ["sre-leads"], channel: "#sre" } };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const dialect of eachDialect()) {
  describe(`follow-ups on ${dialect.dialect}`, () => {
    after(() => dialect.stop());

    test("three instances on one store: each reminder and the escalation is claimed, told and sent once; a later start skips what was missed", async () => {
      const shared = await dialect.open();
      // Each instance its own store connection where the dialect has them (PostgreSQL: one pool per process).
      const stores: Store[] = [shared.store];
      if (shared.url) for (let i = 0; i < 2; i++) stores.push(await openStore({ dataDir: shared.dataDir, url: shared.url, migrationsFolder: "drizzle" }));
      const approvals = new ApprovalService(shared.store, new GrantStore(shared.store));
      try {
        const request = await approvals.open(heldUpdate({ timeoutMs: 5_000, followUp: FOLLOW_UP }));
        const sent: FollowUpSent[] = [];
        const heard: AirlockEvent[] = [];
        const start = (store: Store) => {
          const bus = new EventBus();
          bus.subscribe((e) => heard.push(e));
          return new FollowUps({ store, bus, sent: async (s) => void sent.push(s) }).start();
        };
        const instances = [0, 1, 2].map((i) => start(stores[i % stores.length]));
        await sleep(1_000);
        for (const instance of instances) instance.close();

        const rows = await followUpsOf(shared.store, [request.id]);
        const reminders = rows.filter((r) => r.kind === "reminder");
        assert.ok(reminders.length >= 2, "1 s of 300 ms intervals");
        assert.deepEqual(reminders.map((r) => r.seq), reminders.map((_, i) => i + 1), "one per interval, none twice");
        assert.deepEqual(rows.filter((r) => r.kind === "escalation").map((r) => [r.groups, r.channel]), [[["sre-leads"], "#sre"]]);
        assert.equal(sent.length, rows.length, "each sent to Slack by the one instance that claimed it");
        assert.equal(heard.filter((e) => e.type === "request.reminded").length, reminders.length);
        assert.deepEqual(heard.filter((e) => e.type === "request.escalated"), [{ type: "request.escalated", requestId: request.id, groups: ["sre-leads"] }]);
        assert.deepEqual(reminders.slice(0, 2).map((r) => r.groups), [["db-approvers"], ["db-approvers"]]);
        assert.deepEqual(reminders.filter((r) => r.seq * 300 >= 700).map((r) => r.groups), reminders.filter((r) => r.seq * 300 >= 700).map(() => ["db-approvers", "sre-leads"]), "after the escalation, its groups are reminded too");

        // No instance runs for two intervals; the next to start sends one reminder for the latest, and no escalation again.
        await sleep(700);
        const later = start(shared.store);
        await sleep(150);
        later.close();
        const after = await followUpsOf(shared.store, [request.id]);
        const resumed = after.filter((r) => r.kind === "reminder").slice(reminders.length).map((r) => r.seq);
        assert.ok(resumed[0] > reminders.length + 1, `the missed intervals are skipped (${resumed})`);
        assert.deepEqual(resumed, resumed.map((_, i) => resumed[0] + i), "then one per interval again");
        assert.equal(after.filter((r) => r.kind === "escalation").length, 1);
      } finally {
        approvals.close();
        for (const store of stores.slice(1)) await store.close();
        await shared.close();
      }
    });

    test("a follow-up whose instance died before Slack answered is posted once by another when its hold ends, and marked told", async () => {
      const shared = await dialect.open();
      const approvals = new ApprovalService(shared.store, new GrantStore(shared.store));
      const posted: string[] = [];
      try {
        const request = await approvals.open(heldUpdate({ timeoutMs: 10_000, followUp: { escalate: { afterMs: 100, to: ["sre-leads"] } } }));
        // The first instance claims the escalation and "dies" posting it: its post never answers.
        const dying = new FollowUps({ store: shared.store, bus: new EventBus(), notifyHoldMs: 500, sent: () => new Promise(() => undefined) }).start();
        await sleep(300);
        dying.close();
        const [claimed] = await followUpsOf(shared.store, [request.id]);
        assert.equal(claimed.notifiedAt, null, "not told yet");
        const others = [0, 1].map(() => new FollowUps({ store: shared.store, bus: new EventBus(), notifyHoldMs: 500, sent: async (s) => void posted.push(`${s.followUp.kind} ${s.followUp.id}`) }).start());
        await sleep(900);
        for (const other of others) other.close();
        assert.deepEqual(posted, [`escalation ${claimed.id}`], "taken up by one of the two, once");
        const [told] = await followUpsOf(shared.store, [request.id]);
        assert.ok(told.notifiedAt, "marked told");
      } finally {
        approvals.close();
        await shared.close();
      }
    });

    test("a decided request is reminded no more", async () => {
      const shared = await dialect.open();
      // One bus, as in one process: the request's opening is what arms the first reminder.
      const bus = new EventBus();
      const approvals = new ApprovalService(shared.store, new GrantStore(shared.store), bus);
      const followUps = new FollowUps({ store: shared.store, bus }).start();
      try {
        const request = await approvals.open(heldUpdate({ timeoutMs: 5_000, followUp: { remindMs: 200 } }));
        await sleep(300);
        await approvals.decide({ requestId: request.id, person: { email: "bob@example.com", groups: ["db-approvers"], role: "approver" }, action: "approve", via: "web" });
        const atDecision = (await followUpsOf(shared.store, [request.id])).length;
        await sleep(500);
        assert.ok(atDecision >= 1, "reminded while it waited");
        assert.equal((await followUpsOf(shared.store, [request.id])).length, atDecision);
      } finally {
        followUps.close();
        approvals.close();
        await shared.close();
      }
    });
  });
}
