import { expect, test } from "./fixtures";
import { IdpSignInPage } from "./pages/idp-sign-in-page";

test("a signed-out visitor is sent to sign in", async ({ page }) => {
  await page.goto("/");
  await expect(page).toHaveURL(/\/signin/);
  await expect(page.getByRole("button", { name: /sign in/i })).toBeVisible();
  await expect(page.getByText("airlock-dev")).toBeVisible();

  await page.goto("/audit");
  await expect(page).toHaveURL(/\/signin/);
});

const people = [
  { email: "alice@example.com", role: "approver" },
  { email: "carol@example.com", role: "viewer" },
  { email: "admin@example.com", role: "admin" },
  { email: "bob@example.com", role: "approver" },
];

for (const { email, role } of people) {
  test(`${email} signs in through the development IdP and is ${role}`, async ({ page, signIn }) => {
    await signIn(email);
    const who = page.getByTestId("current-person");
    await expect(who).toContainText(email);
    await expect(who.getByTestId("role")).toHaveText(role);
    await expect(page.getByRole("heading", { level: 1, name: "Requests" })).toBeVisible();
    await expect(page.getByText("No requests waiting")).toBeVisible();
    await expect(page.getByText(/npx airlock token reporting-agent/)).toBeVisible();
  });
}

test("a wrong password is refused on the IdP's form", async ({ page }) => {
  await page.goto("/");
  await page.getByRole("button", { name: /sign in/i }).click();
  await new IdpSignInPage(page).signIn("alice@example.com", "not-the-password");
  await expect(page.getByRole("alert")).toHaveText("Wrong email or password.");
  await expect(page).not.toHaveURL(/\/$/);
});

test("sign-out ends the session", async ({ page, signIn }) => {
  await signIn("alice@example.com");
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/signin/);
  await page.goto("/");
  await expect(page).toHaveURL(/\/signin/);
});

test("the navigation reaches every section", async ({ page, signIn }) => {
  await signIn("carol@example.com");
  for (const section of ["Sessions", "Grants", "Audit", "Policy", "Requests"]) {
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: section }).click();
    await expect(page.getByRole("heading", { level: 1, name: section })).toBeVisible();
    await expect(page.getByRole("link", { name: section })).toHaveAttribute("aria-current", "page");
  }
});

test("the live websocket accepts a signed-in browser and says who it is", async ({ page, signIn, baseURL }) => {
  await signIn("bob@example.com");
  const hello = await page.evaluate(
    (url) =>
      new Promise<unknown>((resolve, reject) => {
        const ws = new WebSocket(url);
        ws.onmessage = (e) => resolve(JSON.parse(e.data as string));
        ws.onerror = () => reject(new Error("websocket failed"));
      }),
    `${baseURL!.replace(/^http/, "ws")}/api/live`,
  );
  expect(hello).toEqual({ type: "hello", email: "bob@example.com", role: "approver" });
});
