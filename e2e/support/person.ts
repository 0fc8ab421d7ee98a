import type { Browser } from "@playwright/test";
import { IdpSignInPage } from "../pages/idp-sign-in-page";

/** Another person signed in, in a browser context of their own beside the test's page. */
export async function signedInPerson(browser: Browser, baseURL: string, email: string) {
  const context = await browser.newContext({ baseURL });
  const page = await context.newPage();
  await page.goto("/");
  await page.getByRole("button", { name: /sign in/i }).click();
  await new IdpSignInPage(page).signIn(email);
  await page.waitForURL((url) => url.pathname === "/");
  return { context, page };
}
