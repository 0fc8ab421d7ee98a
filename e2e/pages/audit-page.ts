import type { Page } from "@playwright/test";

/** The Audit page: its filters, its rows, its pager, the chain's state and the export links. */
export class AuditPage {
  constructor(private readonly page: Page) {}

  async open(): Promise<void> {
    await this.page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Audit" }).click();
    await this.page.getByRole("heading", { level: 1, name: "Audit" }).waitFor();
  }

  /** Fills the named filters (by label) and submits the form. */
  async filter(values: Record<string, string>): Promise<void> {
    const form = this.page.getByRole("form", { name: "Filter the audit log" });
    for (const [label, value] of Object.entries(values)) {
      const field = form.getByLabel(label, { exact: true });
      if ((await field.evaluate((el) => el.tagName)) === "SELECT") await field.selectOption(value);
      else await field.fill(value);
    }
    await form.getByRole("button", { name: "Filter" }).click();
  }

  get rows() {
    return this.page.getByTestId("audit-row");
  }

  row(text: string) {
    return this.rows.filter({ hasText: text });
  }

  get older() {
    return this.page.getByRole("link", { name: "Older →" });
  }

  get newest() {
    return this.page.getByRole("link", { name: "← Newest" });
  }

  get chain() {
    return this.page.getByTestId("chain-state");
  }

  get exportLinks() {
    return this.page.getByTestId("audit-export");
  }
}
