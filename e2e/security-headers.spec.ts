import { expect, test } from "./fixtures";
import { PolicyPage } from "./pages/policy-page";
import { watchForViolations } from "./support/csp";

/**
 * The dashboard works under its Content-Security-Policy: signing in (the IdP's own page has a
 * stricter one), client-side navigation to every section, a server action with its result, the
 * live socket and signing out, with not one violation or console error on the way.
 */
test("the console works under its CSP, with no violation anywhere", async ({ page, signIn, baseURL }) => {
  const problems = watchForViolations(page);
  const signInPage = await page.request.get("/signin");
  const csp = signInPage.headers()["content-security-policy"];
  expect(csp).toMatch(/script-src 'self' 'nonce-[^']+' 'strict-dynamic'/);
  expect(csp).not.toMatch(/unsafe-inline|unsafe-eval/);
  expect(signInPage.headers()["x-frame-options"]).toBe("DENY");

  await signIn("alice@example.com");
  for (const section of ["Sessions", "Grants", "Audit", "Policy", "Requests"]) {
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: section }).click();
    await expect(page.getByRole("heading", { level: 1, name: section })).toBeVisible();
  }

  const policy = new PolicyPage(page);
  await policy.open();
  await expect(page.getByRole("heading", { level: 1, name: "Policy" })).toBeVisible();
  await policy.explain("reporting-agent", "select name from customers");
  await expect(policy.explanation).toContainText("Allowed by rule agents-read");

  const hello = await page.evaluate(
    (url) =>
      new Promise<unknown>((resolve, reject) => {
        const ws = new WebSocket(url);
        ws.onmessage = (e) => resolve(JSON.parse(e.data as string));
        ws.onerror = () => reject(new Error("websocket failed"));
      }),
    `${baseURL!.replace(/^http/, "ws")}/api/live`,
  );
  expect(hello).toMatchObject({ type: "hello", email: "alice@example.com" });

  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/signin/);
  expect(await problems()).toEqual([]);
});

test("a page in a frame is refused", async ({ page, baseURL }) => {
  const problems = watchForViolations(page);
  await page.goto("/signin");
  const blocked = page.waitForEvent("console", (msg) => /frame-ancestors|X-Frame-Options|refused to connect/i.test(msg.text()));
  await page.setContent(`<iframe src="${baseURL}/signin"></iframe>`);
  await blocked;
  expect((await problems()).every((p) => /frame-ancestors|X-Frame-Options/i.test(p))).toBe(true);
});
