import { createHash } from "node:crypto";

const SUBMIT = "document.forms[0].submit();";

/**
 * The HTTP-POST binding: a page whose form carries the SAML message to `url` and sends itself.
 * Its own policy admits that one script by hash and lets the form post only to `url`'s origin;
 * served by Next.js, whose policy stays in force, the script carries that policy's `nonce`.
 * Without JavaScript the person presses the button.
 */
export function autoPostPage(url: string, fields: Record<string, string>, nonce?: string): { html: string; csp: string } {
  const inputs = Object.entries(fields)
    .map(([name, value]) => `<input type="hidden" name="${escape(name)}" value="${escape(value)}">`)
    .join("");
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Signing in…</title></head><body>
<form method="post" action="${escape(url)}">${inputs}<noscript><button type="submit">Continue</button></noscript></form>
<script${nonce ? ` nonce="${escape(nonce)}"` : ""}>${SUBMIT}</script></body></html>`;
  const csp = [
    "default-src 'none'",
    `script-src 'sha256-${createHash("sha256").update(SUBMIT).digest("base64")}'`,
    `form-action ${new URL(url).origin}`,
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
  return { html, csp };
}

function escape(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
