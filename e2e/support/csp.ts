import type { Page } from "@playwright/test";

/**
 * Collects what the browser refused or complained about on a page: Content-Security-Policy
 * violations (reported by the page itself, so none is missed between navigations) and console
 * errors. A missing favicon is not the app's doing.
 */
export function watchForViolations(page: Page): () => Promise<string[]> {
  const problems: string[] = [];
  page.on("console", (msg) => {
    if (msg.type() === "error" && !msg.location().url.endsWith("/favicon.ico")) problems.push(`console: ${msg.text()}`);
  });
  page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
  void page.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) => {
      console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || "inline"} in ${e.sourceFile || e.documentURI}`);
    });
  });
  return async () => problems;
}
