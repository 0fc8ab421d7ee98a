import { expect, type Page } from "@playwright/test";

export const DEV_PASSWORD = "airlock-dev";

/** The development identity provider's sign-in form. */
export class IdpSignInPage {
  constructor(private readonly page: Page) {}

  async signIn(email: string, password = DEV_PASSWORD): Promise<void> {
    await expect(this.page.getByRole("heading", { name: /development identity provider/i })).toBeVisible();
    await this.page.getByLabel("Email").fill(email);
    await this.page.getByLabel("Password").fill(password);
    await this.page.getByRole("button", { name: "Sign in" }).click();
  }
}
