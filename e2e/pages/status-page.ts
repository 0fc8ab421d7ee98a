import type { Page } from "@playwright/test";

/** The operator's Status page. */
export class StatusPage {
  constructor(private readonly page: Page) {}

  get navLink() {
    return this.page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Status" });
  }

  async open(): Promise<void> {
    await this.navLink.click();
  }

  resource(name: string) {
    return this.page.getByTestId("status-resource").filter({ has: this.page.getByRole("strong").getByText(name, { exact: true }) });
  }

  fact(testId: string) {
    return this.page.getByTestId(testId);
  }

  get instances() {
    return this.page.getByTestId("status-instance");
  }
}
