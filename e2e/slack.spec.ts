import { buttonClick, buttonIn, postInteraction } from "../test/support/slack-interactions";
import { about, SLACK_USERS, SlackStandInClient, succeeded, type SlackCall } from "../test/support/slack-stand-in";
import { expect, test } from "./fixtures";
import { RequestsPage } from "./pages/requests-page";
import { connectAgent } from "./support/agent";

/** The stand-in for Slack's Web API that global setup pointed Airlock at. */
function slack(): SlackStandInClient {
  const url = process.env.AIRLOCK_E2E_SLACK_URL;
  if (!url) throw new Error("AIRLOCK_E2E_SLACK_URL is not set: run through `npx playwright test`");
  return new SlackStandInClient(url);
}

const blocksOf = (call: SlackCall) => JSON.stringify(call.args.blocks);

test("a decision made in the browser updates the Slack message", async ({ page, baseURL, signIn }) => {
  await signIn("alice@example.com");
  const agent = await connectAgent(baseURL!);
  try {
    const running = agent.query("update orders set status = 'delivered' where id = 21 /* e2e-slack-web */");
    const posted = await slack().waitFor("chat.postMessage", succeeded("e2e-slack-web"));
    const queue = new RequestsPage(page);
    await queue.open("e2e-slack-web");
    await expect(queue.slackStatus).toHaveText(`Slack: posted to ${posted.channel}, up to date.`);
    await queue.decide("Approve once");
    await expect(page.getByTestId("request-status")).toHaveText("approved");
    await running;

    // The update that shows the decision: the message is also updated once its impact preview is made.
    const updated = await slack().waitFor("chat.update", (c) => c.args.ts === posted.ts && /Approved/.test(blocksOf(c)));
    expect(updated.args.channel).toBe(posted.channel);
    expect(blocksOf(updated)).toMatch(/Approved\* by alice@example.com \(web, once\) at <!date/);
    expect(blocksOf(updated)).not.toContain('"actions"');
  } finally {
    await agent.end();
  }
});

test("count 2: one approval from Slack and one from the web; the message shows 1 of 2, then approved", async ({ page, baseURL, signIn }) => {
  await signIn("alice@example.com");
  const agent = await connectAgent(baseURL!);
  try {
    const running = agent.query("alter table products add column if not exists e2e_slack_note text");
    const posted = await slack().waitFor("chat.postMessage", succeeded("e2e_slack_note"));
    expect(blocksOf(posted)).toContain("*Approvals*\\n0 of 2");

    const click = await postInteraction(baseURL!, buttonClick(posted, SLACK_USERS.bob.id, buttonIn(posted, "Approve once")));
    expect(click.status).toBe(200);
    const partial = await slack().waitFor("chat.update", (c) => c.args.ts === posted.ts && blocksOf(c).includes("1 of 2"));
    expect(blocksOf(partial)).toContain("*Approvals*\\n1 of 2");

    // The web shows bob's Slack approval live, and alice's completes it.
    const queue = new RequestsPage(page);
    await expect(queue.request("e2e_slack_note")).toContainText("1 of 2 approvals");
    await queue.open("e2e_slack_note");
    await expect(page.locator("ol.history li").first()).toContainText("bob@example.com approved once via slack");
    await queue.decide("Approve once");
    await expect(page.getByTestId("request-status")).toHaveText("approved");
    await running;
    await slack().waitFor("chat.update", (c) => c.args.ts === posted.ts && /Approved\* by bob@example.com \(Slack, once\), alice@example.com \(web, once\)/.test(blocksOf(c)));
  } finally {
    await agent.end();
  }
});

test("with Slack failing, the request page says so and approving on the web works", async ({ page, baseURL, signIn }) => {
  await signIn("alice@example.com");
  await slack().fail({ method: "chat.postMessage", matching: "e2e-slack-down", failures: Array.from({ length: 20 }, () => ({ status: 500 })) });
  const agent = await connectAgent(baseURL!);
  try {
    const running = agent.query("update orders set status = 'paid' where id = 22 /* e2e-slack-down */");
    await slack().waitFor("chat.postMessage", about("e2e-slack-down"));
    const queue = new RequestsPage(page);
    await queue.open("e2e-slack-down");
    await expect(queue.slackStatus).toContainText("Slack: post failed: HTTP 500 Internal Server Error; retrying");
    await queue.decide("Approve once");
    await expect(page.getByTestId("request-status")).toHaveText("approved");
    await running;
    // The next retry finds it decided: a late message would only be noise.
    await expect(queue.slackStatus).toContainText("the request was approved before Slack answered", { timeout: 10_000 });
  } finally {
    await agent.end();
  }
});
