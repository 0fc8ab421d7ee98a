import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import pg from "pg";
import type { RunningAirlock } from "../support/airlock-server";
import { startPostgres, type TestPostgres } from "../support/postgres";
import { about, startSlackStandIn, succeeded, type SlackCall, type SlackStandIn } from "../support/slack-stand-in";
import { makeTempDir } from "../support/temp-dir";
import { connectAgent, startAirlockWithSlack } from "./setup";

const dir = makeTempDir("slack-preview");
let slack: SlackStandIn;
let airlock: RunningAirlock;
let server: TestPostgres;

before(async () => {
  server = await startPostgres();
  const admin = new pg.Client({ connectionString: server.url });
  await admin.connect();
  await admin.query("create table accounts (id int primary key, balance numeric); insert into accounts select g, g from generate_series(1, 30) g; analyze accounts");
  await admin.end();
  slack = await startSlackStandIn();
  airlock = await startAirlockWithSlack(slack, dir.path, {
    policy: `resources:
  demo: { type: postgres, url: "pglite://demo" }
  pg: { type: postgres, url: ${JSON.stringify(server.url)} }
rules:
  - name: agents-read
    match: { groups: [agents], kinds: [select] }
    action: allow
  - name: agents-write
    match: { groups: [agents], kinds: [insert, update, delete] }
    action: review
    review: { approvers: [db-approvers], preview: count }
`,
  });
});
after(async () => {
  await airlock?.stop();
  await slack?.close();
  await server?.stop();
  dir.remove();
});

const blocksOf = (call: SlackCall) => JSON.stringify(call.args.blocks);

/** Holds the statement; returns its first message and the update that shows its preview. */
async function held(resource: string, text: string, marker: string, values?: unknown[]): Promise<{ posted: SlackCall; updated: SlackCall; notices: string[] }> {
  const agent = await connectAgent(airlock, resource);
  try {
    agent.client.query(text, values).catch(() => undefined);
    const posted = await slack.waitFor("chat.postMessage", succeeded(marker));
    const updated = await slack.waitFor("chat.update", (c) => about(marker)(c) && blocksOf(c).includes("*Impact*"), 30_000);
    return { posted, updated, notices: agent.notices };
  } finally {
    await agent.client.end().catch(() => undefined);
  }
}

describe("the Slack message of a held write", () => {
  test("on PostgreSQL: posted at once, then updated with the estimate and the dry run's count", async () => {
    const { posted, updated, notices } = await held("pg", "update accounts set balance = balance + $1 where id <= $2 /* slack-preview-pg */", "slack-preview-pg", [1, 3]);
    assert.ok(notices.some((n) => n.includes("held for approval")), "the agent was told at once");
    assert.ok(!blocksOf(posted).includes("*Impact*") || blocksOf(posted).includes("(estimate)"));
    const blocks = blocksOf(updated);
    assert.match(blocks, /~\d+ rows? \(estimate\) updated/);
    assert.match(blocks, /3 rows \(dry run\)/);
  });

  test("on the embedded PGlite demo too: the estimate and the dry run run on a session of Airlock's own, and change nothing", async () => {
    const statuses = async () => {
      const reader = await connectAgent(airlock, "demo");
      try {
        return JSON.stringify((await reader.client.query("select id, status from orders where id <= 2 order by id")).rows);
      } finally {
        await reader.client.end();
      }
    };
    const before = await statuses();
    assert.doesNotMatch(before, /paid/);
    const { updated } = await held("demo", "update orders set status = 'paid' where id <= 2 /* slack-preview-demo */", "slack-preview-demo");
    const blocks = blocksOf(updated);
    assert.match(blocks, /~\d+ rows? \(estimate\) updated/);
    assert.match(blocks, /2 rows \(dry run\)/);
    assert.equal(await statuses(), before, "the dry run was rolled back");
  });
});
