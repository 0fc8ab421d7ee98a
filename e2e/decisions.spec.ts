import type { APIRequestContext } from "@playwright/test";
import { expect, test } from "./fixtures";
import { RequestsPage } from "./pages/requests-page";
import { connectAgent } from "./support/agent";
import { signedInPerson } from "./support/person";

/** The fields of the decision form as the page renders it for someone who may decide. */
function decisionFormFields(html: string): Record<string, string> {
  const form = html.slice(html.indexOf('<form class="decision-form"'), html.indexOf("</form>", html.indexOf('<form class="decision-form"')));
  const fields: Record<string, string> = {};
  for (const m of form.matchAll(/<input type="hidden" name="([^"]+)"(?: value="([^"]*)")?\/>/g)) {
    fields[m[1]] = (m[2] ?? "").replaceAll("&quot;", '"').replaceAll("&amp;", "&");
  }
  return fields;
}

async function post(request: APIRequestContext, url: string, fields: Record<string, string>, origin: string) {
  return request.post(url, { multipart: { ...fields, decision: "approve:once" }, headers: { origin } });
}

test("a forged approve post — from a viewer's session, or from another origin — changes nothing", async ({ page, browser, baseURL, signIn }) => {
  await signIn("alice@example.com");
  const agent = await connectAgent(baseURL!);
  agent.on("error", () => undefined);
  const carol = await signedInPerson(browser, baseURL!, "carol@example.com");
  try {
    agent.query("update orders set status = 'paid' where id = 17 /* forged */").catch(() => undefined);
    await new RequestsPage(page).open("forged");
    await expect(page.getByTestId("request-status")).toHaveText("pending");
    const url = page.url();
    const fields = decisionFormFields(await (await page.request.get(url)).text());
    expect(fields.requestId).toMatch(/^r_/);

    // Carol replays alice's form with her own session: the approvals service refuses her.
    await post(carol.page.request, url, fields, baseURL!);
    // Alice's own session, posted from another site: Next.js refuses the cross-origin action.
    const crossSite = await post(page.request, url, fields, "http://evil.example");
    expect(crossSite.status()).toBeGreaterThanOrEqual(400);

    await page.reload();
    await expect(page.getByTestId("request-status")).toHaveText("pending");
    await expect(page.getByText("None yet.")).toBeVisible();

    // The same post from alice's session and site is well formed: it approves.
    await post(page.request, url, fields, baseURL!);
    await page.reload();
    await expect(page.getByTestId("request-status")).toHaveText("approved");
  } finally {
    await agent.end();
    await carol.context.close();
  }
});

test("count 2: alice alone is not enough, nor alice twice; alice then bob releases it", async ({ page, browser, baseURL, signIn }) => {
  await signIn("alice@example.com");
  const agent = await connectAgent(baseURL!);
  const bob = await signedInPerson(browser, baseURL!, "bob@example.com");
  try {
    const running = agent.query("alter table products add column if not exists e2e_note text");
    const queue = new RequestsPage(page);
    await queue.open("e2e_note");
    await queue.decide("Approve once");
    // Her decision is recorded; she may not decide again; it still waits.
    await expect(page.locator("ol.history li")).toHaveCount(1);
    await expect(page.getByRole("button", { name: /Approve/ })).toHaveCount(0);
    await expect(page.getByTestId("request-status")).toHaveText("pending");

    const bobQueue = new RequestsPage(bob.page);
    await expect(bobQueue.request("e2e_note")).toContainText("1 of 2 approvals");
    await bobQueue.open("e2e_note");
    await bobQueue.decide("Approve once");
    await expect(bob.page.getByTestId("request-status")).toHaveText("approved");
    await running;
  } finally {
    await agent.end();
    await bob.context.close();
  }
});
