import { after, test } from "node:test";
import assert from "node:assert/strict";
import { startSlackStandIn, succeeded } from "../support/slack-stand-in";
import { makeTempDir } from "../support/temp-dir";
import { connectAgent, startAirlockWithSlack } from "./setup";

const dir = makeTempDir("slack-restart");
after(() => dir.remove());

test("after a crash and a restart, the request's own Slack message is updated (its channel and ts are stored)", async () => {
  const slack = await startSlackStandIn();
  try {
    const first = await startAirlockWithSlack(slack, dir.path);
    const agent = await connectAgent(first);
    agent.client.query("update orders set status = 'paid' where id = 9 /* slack-restart */").catch(() => undefined);
    const posted = await slack.waitFor("chat.postMessage", succeeded("slack-restart"));

    // A crash: nothing is updated on the way out; the waiting agent is gone with the process.
    await first.stop("SIGKILL");
    await agent.client.end().catch(() => undefined);
    const second = await startAirlockWithSlack(slack, dir.path);
    try {
      // The restart cancels the request at once; its update may wait out the killed process's lease on the message (CI took over 15 s once).
      const updated = await slack.waitFor("chat.update", (c) => c.args.ts === posted.ts && /Cancelled/.test(JSON.stringify(c.args.blocks)), 60_000);
      assert.equal(updated.args.channel, posted.channel);
      assert.match(JSON.stringify(updated.args.blocks), /Cancelled\* at .*: Airlock restarted while the agent was waiting/);
      assert.ok(!JSON.stringify(updated.args.blocks).includes('"actions"'), "no buttons on a cancelled request");
      assert.equal((await slack.calls("chat.postMessage")).filter(succeeded("slack-restart")).length, 1, "no second message");
    } finally {
      await second.stop();
    }
  } finally {
    await slack.close();
  }
});
