import { expect, test } from "./fixtures";
import { IdpSignInPage } from "./pages/idp-sign-in-page";
import { RequestsPage } from "./pages/requests-page";
import { connectAgent } from "./support/agent";

/** The e2e policy's rule e2e-step-up (global-setup.ts): reporting-agent's ANALYZE needs a sign-in at most this old. */
const STEP_UP_MS = 20_000;

test("a step-up request refuses an approver whose sign-in is too old, and counts their decision after they sign in again", async ({ page, baseURL, signIn }) => {
  test.setTimeout(120_000);
  const agent = await connectAgent(baseURL!);
  try {
    const held = agent.query("analyze products /* e2e-step-up */");
    held.catch(() => undefined);
    await signIn("alice@example.com");
    // The IdP's auth_time is no later than this.
    const signedInAt = Date.now();
    const queue = new RequestsPage(page);
    await queue.open("e2e-step-up");
    const stepUp = page.getByTestId("step-up");
    await expect(stepUp).toContainText("within the last 20s");
    await expect(stepUp).toContainText("Your sign-in counts for decisions until");
    const requestUrl = page.url();

    // The page was opened in time; the click comes after the sign-in grew too old: refused, nothing decided.
    await page.waitForTimeout(Math.max(0, signedInAt + STEP_UP_MS + 2_000 - Date.now()));
    await queue.decide("Approve once");
    await expect(page.getByRole("alert").filter({ hasText: "older than this request allows" })).toBeVisible();
    // The page is drawn again at once: the new sign-in is offered, the buttons are gone.
    await expect(page.getByRole("button", { name: "Sign in again to decide" })).toBeVisible();
    await page.reload();
    await expect(page.getByTestId("request-status")).toHaveText("pending");
    await expect(page.getByText("None yet.")).toBeVisible();
    await expect(page.getByRole("button", { name: "Approve once" })).toHaveCount(0);

    // Signing in again (a new login at the IdP) returns to the request, where the decision counts.
    await page.getByRole("button", { name: "Sign in again to decide" }).click();
    await new IdpSignInPage(page).signIn("alice@example.com");
    await page.waitForURL(requestUrl);
    await expect(stepUp).toContainText("Your sign-in counts for decisions until");
    await queue.decide("Approve once");
    await expect(page.getByTestId("request-status")).toHaveText("approved");
    await expect(page.getByTestId("stepped-up")).toContainText("step-up: signed in at");
    await held;
  } finally {
    await agent.end();
  }
});
