import { expect, test } from "./fixtures";
import { ReminderNotifications } from "./pages/reminder-notifications";
import { RequestsPage } from "./pages/requests-page";
import { connectAgent } from "./support/agent";

// The e2e policy's last rule (global-setup.ts): ops-agent's ANALYZE reminds every 2 s and escalates to sre-leads after 3 s.
test("an approver who turned notifications on is notified of reminders; the request page shows the escalation and the history", async ({ page, baseURL, signIn }) => {
  const notifications = await ReminderNotifications.record(page);
  await signIn("alice@example.com");
  await expect(notifications.control).toContainText("Notify me of reminders and escalations");
  expect((await notifications.recorded()).asked, "off by default: the browser is not asked").toBe(0);
  await notifications.turnOn();
  await expect(notifications.control).toContainText("Reminders and escalations for you are shown as notifications");
  expect((await notifications.recorded()).asked, "asked once, from the click").toBe(1);

  const agent = await connectAgent(baseURL!, "demo", "ops-agent");
  try {
    const held = agent.query("analyze orders /* e2e-follow-up */");
    held.catch(() => undefined);
    const queue = new RequestsPage(page);
    await expect(queue.request("e2e-follow-up")).toBeVisible();
    await expect.poll(async () => (await notifications.recorded()).shown.map((n) => n.title), { timeout: 10_000 }).toContain("Airlock: a request still waits for you");
    // Alice is not in sre-leads: the escalation is not hers to hear of.
    expect((await notifications.recorded()).shown.map((n) => n.title)).not.toContain("Airlock: a request escalated to you");

    await queue.open("e2e-follow-up");
    await expect(page.getByTestId("escalation")).toContainText(/escalated to sre-leads \(Slack #sre\) at .*: they may decide too/, { timeout: 10_000 });
    await expect(page.getByTestId("history-reminder").first()).toContainText("Reminder 1 to db-approvers");
    await expect(page.getByTestId("history-escalation")).toContainText("Escalated to sre-leads (Slack #sre)");
    await queue.decide("Deny", "not now");
    await expect(page.getByTestId("request-status")).toHaveText("denied");
    await expect(page.getByTestId("history-decision")).toContainText("alice@example.com denied via web");
  } finally {
    await agent.end();
  }
});
