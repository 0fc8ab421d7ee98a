import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { webApi } from "@slack/bolt";
import { findSeedPerson } from "../../idp/seed";
import { SLACK_USERS, startSlackStandIn, STAND_IN_BOT_TOKEN, type SlackStandIn } from "../../test/support/slack-stand-in";
import { webClientOptions } from "./app";
import { PROFILE_CACHE_MS, SlackPeople } from "./people";

const roleGroups = { admin: ["airlock-admins"], approver: ["db-approvers"] };
let slack: SlackStandIn;
let client: webApi.WebClient;
before(async () => {
  slack = await startSlackStandIn();
  client = new webApi.WebClient(STAND_IN_BOT_TOKEN, webClientOptions(slack.apiUrl));
});
after(() => slack.close());

test("a Slack user is the Airlock person with their profile's email, with groups and role as Airlock knows them", async () => {
  const people = new SlackPeople(client, async (email) => findSeedPerson(email), roleGroups);
  assert.deepEqual(await people.whoClicked(SLACK_USERS.bob.id), { ok: true, person: { email: "bob@example.com", groups: ["db-approvers"], role: "approver" } });
  assert.deepEqual(await people.whoClicked(SLACK_USERS.carol.id), { ok: true, person: { email: "carol@example.com", groups: ["engineering"], role: "viewer" } });
  const sec = new SlackPeople(client, async (email) => findSeedPerson(email), { admin: [], approver: ["engineering"] });
  const carol = await sec.whoClicked(SLACK_USERS.carol.id);
  assert.ok(carol.ok && carol.person.role === "approver", "the role follows the current mapping");
});

test("people Airlock does not know, bots, deactivated accounts and hidden emails are refused with why", async () => {
  const people = new SlackPeople(client, async (email) => findSeedPerson(email), roleGroups);
  const refusal = async (id: string) => {
    const who = await people.whoClicked(id);
    return who.ok ? "allowed" : who.message;
  };
  assert.match(await refusal(SLACK_USERS.stranger.id), /^Airlock does not know mallory@elsewhere\.example: sign in to Airlock once/);
  assert.equal(await refusal(SLACK_USERS.bot.id), "Slack apps cannot decide requests.");
  assert.equal(await refusal(SLACK_USERS.departed.id), "Deactivated Slack accounts cannot decide requests.");
  assert.match(await refusal(SLACK_USERS.private.id), /no email address/);
  assert.match(await refusal("U0NOBODY"), /could not read your Slack profile \(user_not_found\)/);
});

test("profiles are cached for PROFILE_CACHE_MS", async () => {
  let now = 1_000_000;
  const people = new SlackPeople(client, async (email) => findSeedPerson(email), roleGroups, () => now);
  const lookups = async () => (await slack.calls("users.info")).filter((c) => c.args.user === SLACK_USERS.alice.id).length;
  const before = await lookups();
  await people.whoClicked(SLACK_USERS.alice.id);
  now += PROFILE_CACHE_MS - 1;
  await people.whoClicked(SLACK_USERS.alice.id);
  assert.equal(await lookups(), before + 1, "one users.info within the cache time");
  now += 2;
  await people.whoClicked(SLACK_USERS.alice.id);
  assert.equal(await lookups(), before + 2, "asked again after it");
});
