import type { Page } from "@playwright/test";

/** The queue's "Break-glass: needs review" items. */
export class BreakGlassQueue {
  constructor(private readonly page: Page) {}

  item(id: string) {
    return this.page.getByRole("listitem", { name: `break-glass ${id}` });
  }

  async review(id: string, note: string): Promise<void> {
    const item = this.item(id);
    await item.getByLabel(/Review note/).fill(note);
    await item.getByRole("button", { name: "Mark reviewed" }).click();
  }
}
