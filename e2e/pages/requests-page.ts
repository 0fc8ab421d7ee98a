import type { Page } from "@playwright/test";

/** The request queue and a request's own page. */
export class RequestsPage {
  constructor(private readonly page: Page) {}

  request(text: string) {
    return this.page.getByTestId("request").filter({ hasText: text });
  }

  async open(text: string): Promise<void> {
    const link = this.request(text).getByRole("link");
    const href = await link.getAttribute("href");
    await link.click();
    // A live update (another test's request) re-rendering the list can swallow the click's
    // navigation: then go to the link's address, so one race does not fail every later test.
    await this.page.waitForURL(`**${href}`, { timeout: 5_000 }).catch(() => this.page.goto(href!));
  }

  /** Whether the request reached Slack, on its own page. */
  get slackStatus() {
    return this.page.getByTestId("slack-status");
  }

  /** Access asked for up front: approve for `duration` ("10m"), the length asked or shorter. */
  async approveFor(duration: string): Promise<void> {
    await this.page.getByLabel(/Duration/).fill(duration);
    await this.page.getByRole("button", { name: "Approve", exact: true }).click();
  }

  async decide(button: string | RegExp, reason?: string): Promise<void> {
    if (reason) await this.page.getByLabel(/Reason/).fill(reason);
    await this.page.getByRole("button", { name: button }).click();
  }
}
