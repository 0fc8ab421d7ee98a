/**
 * `/metrics` beside Slack: each failed call is counted by method and by what followed (retried,
 * given up); the statement-time histograms count statements that ran (simple and extended), not
 * one still held.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { about, startSlackStandIn } from "../support/slack-stand-in";
import { makeTempDir } from "../support/temp-dir";
import { connectAgent, startAirlockWithSlack } from "../slack/setup";

const TOKEN = "metrics-slack-test-token-0123456789";

async function scrape(url: string): Promise<string> {
  const res = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(res.status, 200);
  return res.text();
}

function value(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

test("a post that fails once (503, retried) and then for good (channel_not_found) is counted twice; statement times count what ran", { timeout: 110_000 }, async () => {
  const dir = makeTempDir("metrics-slack");
  const slack = await startSlackStandIn();
  const airlock = await startAirlockWithSlack(slack, dir.path, { env: { AIRLOCK_METRICS_TOKEN: TOKEN } });
  const agent = await connectAgent(airlock);
  try {
    const before = await scrape(airlock.url);
    for (const outcome of ["retry", "give_up"]) assert.equal(value(before, `airlock_slack_delivery_failures_total{method="post",outcome="${outcome}"}`), 0, before);
    assert.equal(value(before, 'airlock_store_errors_total{operation="events_read"}'), 0);

    await agent.client.query("select id from orders order by id limit 1");
    await agent.client.query("select id from orders where id = $1", [1]);
    await slack.fail({ method: "chat.postMessage", matching: "metrics-slack-fail", failures: [{ status: 503 }, { error: "channel_not_found" }] });
    const held = agent.client.query("update orders set status = 'paid' where id = 1 /* metrics-slack-fail */");
    held.catch(() => undefined);
    await slack.waitFor("chat.postMessage", (c) => about("metrics-slack-fail")(c) && c.error === "channel_not_found", 20_000);

    // Counted as the answer comes back: a few scrapes at most.
    let text = await scrape(airlock.url);
    for (let tries = 0; value(text, 'airlock_slack_delivery_failures_total{method="post",outcome="give_up"}') !== 1 && tries < 50; tries++) {
      await new Promise((r) => setTimeout(r, 100));
      text = await scrape(airlock.url);
    }
    assert.equal(value(text, 'airlock_slack_delivery_failures_total{method="post",outcome="retry"}'), 1, text);
    assert.equal(value(text, 'airlock_slack_delivery_failures_total{method="post",outcome="give_up"}'), 1);
    assert.equal(value(text, 'airlock_slack_delivery_failures_total{method="update",outcome="give_up"}'), 0);

    // Two selects ran (a simple Query, an extended Execute); the held update has not.
    assert.equal(value(text, 'airlock_statement_upstream_seconds_count{resource="demo"}'), 2, text);
    assert.equal(value(text, 'airlock_statement_proxy_seconds_count{resource="demo"}'), 2);
    assert.ok((value(text, 'airlock_statement_upstream_seconds_sum{resource="demo"}') ?? 0) > 0);
    assert.ok((value(text, 'airlock_statement_proxy_seconds_sum{resource="demo"}') ?? -1) >= 0);
    assert.equal(value(text, 'airlock_statement_upstream_seconds_bucket{le="10",resource="demo"}'), 2);
  } finally {
    await agent.client.end().catch(() => undefined);
    await airlock.stop();
    await slack.close();
    dir.remove();
  }
});
