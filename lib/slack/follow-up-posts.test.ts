import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { webApi } from "@slack/bolt";
import { startSlackStandIn, STAND_IN_BOT_TOKEN, type SlackStandIn } from "../../test/support/slack-stand-in";
import { openTestStore, type TestStore } from "../../test/support/store";
import type { FollowUpSent } from "../approvals/follow-ups";
import { storedRequest } from "../approvals/testing";
import { webClientOptions } from "./app";
import { SlackFollowUps } from "./follow-up-posts";
import { SlackMessageStore } from "./message-store";

let slack: SlackStandIn;
let t: TestStore;
before(async () => {
  [slack, t] = await Promise.all([startSlackStandIn(), openTestStore()]);
});
after(async () => {
  await slack.close();
  await t.close();
});

function poster(userGroups: Record<string, string>): SlackFollowUps {
  return new SlackFollowUps({
    client: new webApi.WebClient(STAND_IN_BOT_TOKEN, webClientOptions(slack.apiUrl)),
    messages: new SlackMessageStore(t.store),
    approvals: { decisions: async () => [] },
    channelFor: () => "#db-approvals",
    requestUrl: (id) => `https://airlock.example.com/requests/${id}`,
    userGroups,
    delay: () => undefined,
  });
}

const sent = (id: string, followUp: Partial<FollowUpSent["followUp"]>): FollowUpSent => ({
  request: storedRequest(new Date(), { id, followUp: { escalate: { afterMs: 60_000, to: ["sre-leads", "dba-leads"] } } }),
  followUp: { id: 1, requestId: id, kind: "reminder", seq: 1, at: new Date(), groups: ["db-approvers"], channel: null, notifiedAt: null, notifyUntil: null, ...followUp },
});

test("a request without a message of its own is reminded in its channel; unmapped groups mention the channel, mapped ones their user groups", async () => {
  await poster({}).post(sent("r_unmapped", {}));
  const [unmapped] = (await slack.calls("chat.postMessage")).filter((c) => String(c.args.text).includes("r_unmapped"));
  assert.equal(unmapped.args.channel, "#db-approvals");
  assert.equal(unmapped.args.thread_ts, undefined);
  assert.match(unmapped.args.text, /^:bell: <!channel> reminder:/);

  await poster({ "sre-leads": "S0SRE", "dba-leads": "S0DBA" }).post(sent("r_mapped", { kind: "escalation", groups: ["sre-leads", "dba-leads"] }));
  const [escalated] = (await slack.calls("chat.postMessage")).filter((c) => String(c.args.text).includes("r_mapped"));
  assert.match(escalated.args.text, /^:rotating_light: <!subteam\^S0SRE> <!subteam\^S0DBA> <https:\/\/airlock\.example\.com\/requests\/r_mapped\|request r_mapped> escalated to sre-leads, dba-leads: nobody of db-approvers decided within 1m\./);
  assert.ok(JSON.stringify(escalated.args.blocks).includes('"action_id"'), "with the request's buttons");
});

test("a request rolled up into its agent's summary gets no Slack reminder (the summary counts it)", async () => {
  const messages = new SlackMessageStore(t.store);
  await messages.first({ id: "r_rolled", agentId: "reporting-agent" }, "#db-approvals", () => false);
  await poster({}).post(sent("r_rolled", {}));
  assert.deepEqual((await slack.calls("chat.postMessage")).filter((c) => String(c.args.text).includes("r_rolled")), []);
});
