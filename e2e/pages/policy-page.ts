import type { Page } from "@playwright/test";

/** The Policy page and its explain box. */
export class PolicyPage {
  constructor(private readonly page: Page) {}

  async open(): Promise<void> {
    await this.page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Policy" }).click();
  }

  async explain(agent: string, sql: string): Promise<void> {
    await this.page.getByLabel("Agent").fill(agent);
    await this.page.getByLabel("SQL").fill(sql);
    await this.page.getByRole("button", { name: "Explain" }).click();
  }

  get explanation() {
    return this.page.getByTestId("explanation");
  }

  get state() {
    return this.page.getByTestId("policy-state");
  }
}
