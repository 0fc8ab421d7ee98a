import type { Page } from "@playwright/test";
import { IdpSignInPage } from "./idp-sign-in-page";

/** SAML sign-in from Airlock's sign-in page through the development SAML IdP's form. */
export async function signInWithSaml(page: Page, baseUrl: string, email: string, password?: string): Promise<void> {
  await page.goto(`${baseUrl}/signin`);
  await page.getByRole("link", { name: "Sign in with the development SAML IdP" }).click();
  await new IdpSignInPage(page).signIn(email, password);
}
