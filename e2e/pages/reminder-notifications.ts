import type { Page } from "@playwright/test";

/**
 * The queue's opt-in to browser notifications, with the browser's Notification API replaced by a
 * recorder (headless Chromium shows none): what was asked, and what would have been shown.
 */
export class ReminderNotifications {
  constructor(private readonly page: Page) {}

  /** Installs the recorder; call before the page loads. Permission starts as "default", as in a browser never asked. */
  static async record(page: Page): Promise<ReminderNotifications> {
    await page.addInitScript(() => {
      const record = { asked: 0, shown: [] as Array<{ title: string; body?: string }> };
      class RecordedNotification {
        static permission: NotificationPermission = "default";
        static async requestPermission(): Promise<NotificationPermission> {
          record.asked++;
          RecordedNotification.permission = "granted";
          return "granted";
        }
        onclick: (() => void) | null = null;
        constructor(title: string, options?: NotificationOptions) {
          record.shown.push({ title, body: options?.body });
        }
      }
      Object.assign(window, { Notification: RecordedNotification, airlockNotifications: record });
    });
    return new ReminderNotifications(page);
  }

  get control() {
    return this.page.getByTestId("reminder-notifications");
  }

  async turnOn(): Promise<void> {
    await this.control.getByRole("button", { name: "Notify me of reminders and escalations" }).click();
  }

  /** How often the page asked for permission, and the notifications it showed. */
  recorded(): Promise<{ asked: number; shown: Array<{ title: string; body?: string }> }> {
    return this.page.evaluate(() => (window as unknown as { airlockNotifications: { asked: number; shown: Array<{ title: string; body?: string }> } }).airlockNotifications);
  }
}
