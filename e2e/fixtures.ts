import { test as base } from "@playwright/test";
import { IdpSignInPage } from "./pages/idp-sign-in-page";

export const test = base.extend<{ signIn: (email: string) => Promise<void> }>({
  baseURL: async ({}, use) => {
    const url = process.env.AIRLOCK_E2E_URL;
    if (!url) throw new Error("AIRLOCK_E2E_URL is not set: run through `npx playwright test` (global setup starts Airlock)");
    await use(url);
  },
  /** Signs in from the dashboard's sign-in page through the development IdP's form. */
  signIn: async ({ page }, use) => {
    await use(async (email) => {
      await page.goto("/");
      await page.getByRole("button", { name: /sign in/i }).click();
      await new IdpSignInPage(page).signIn(email);
      await page.waitForURL((url) => url.pathname === "/");
    });
  },
});

export { expect } from "@playwright/test";
