import { createHash } from "node:crypto";
import { DEV_PASSWORD, SEED_PEOPLE } from "./seed";

/** The development IdP's sign-in form: plain HTML, no scripts, no external assets. */
/** `hidden`: what the form must carry back, such as the SAML IdP's pending AuthnRequest. */
export function renderLoginPage(opts: { action: string; email?: string; error?: string; clientName: string; hidden?: Record<string, string> }): string {
  const people = SEED_PEOPLE.map(
    (p) => `<li><code>${escapeHtml(p.email)}</code> <span>${escapeHtml(p.groups.join(", "))}</span></li>`,
  ).join("");
  const hidden = Object.entries(opts.hidden ?? {})
    .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
    .join("");
  const error = opts.error ? `<p class="error" role="alert">${escapeHtml(opts.error)}</p>` : "";
  return page(
    "Sign in — Airlock development IdP",
    `<main>
  <h1>Airlock <small>development identity provider</small></h1>
  <p>Sign in to continue to <strong>${escapeHtml(opts.clientName)}</strong>.</p>
  ${error}
  <form method="post" action="${escapeHtml(opts.action)}">${hidden}
    <label for="email">Email</label>
    <input id="email" name="email" type="email" autocomplete="username" required autofocus value="${escapeHtml(opts.email ?? "")}">
    <label for="password">Password</label>
    <input id="password" name="password" type="password" autocomplete="current-password" required>
    <button type="submit">Sign in</button>
  </form>
  <aside>
    <p>Development only: every seeded person's password is <code>${DEV_PASSWORD}</code>.</p>
    <ul>${people}</ul>
  </aside>
</main>`,
  );
}

export function renderIdpError(title: string, detail: string): string {
  return page(title, `<main><h1>${escapeHtml(title)}</h1><p>${escapeHtml(detail)}</p></main>`);
}

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style></head><body>${body}</body></html>`;
}

const STYLE = `
:root{color-scheme:light dark;--fg:#111827;--bg:#f8fafc;--card:#fff;--muted:#6b7280;--line:#e5e7eb;--accent:#2563eb;--err:#b91c1c}
@media (prefers-color-scheme:dark){:root{--fg:#e5e7eb;--bg:#0b1120;--card:#111827;--muted:#9ca3af;--line:#1f2937;--accent:#60a5fa;--err:#f87171}}
body{margin:0;font:15px/1.5 system-ui,sans-serif;background:var(--bg);color:var(--fg);display:grid;place-items:center;min-height:100vh}
main{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:28px;width:min(380px,90vw)}
h1{font-size:20px;margin:0 0 8px}h1 small{display:block;font-size:13px;font-weight:400;color:var(--muted)}
label{display:block;margin:12px 0 4px;font-weight:600;font-size:13px}
input{box-sizing:border-box;width:100%;padding:8px 10px;border:1px solid var(--line);border-radius:6px;background:transparent;color:inherit;font:inherit}
input:focus-visible,button:focus-visible{outline:2px solid var(--accent);outline-offset:2px}
button{margin-top:16px;width:100%;padding:9px;border:0;border-radius:6px;background:var(--accent);color:#fff;font:inherit;font-weight:600;cursor:pointer}
.error{color:var(--err);font-weight:600}
aside{margin-top:20px;padding-top:12px;border-top:1px solid var(--line);font-size:13px;color:var(--muted)}
aside ul{padding-left:18px;margin:6px 0 0}aside span{opacity:.8}
`;

/**
 * The IdP's pages: no script at all, the one style block by its hash (not 'unsafe-inline'), and
 * the form may post only back to the IdP, which then redirects to the dashboard's callback.
 */
export const IDP_PAGE_CSP = [
  "default-src 'none'",
  `style-src 'sha256-${createHash("sha256").update(STYLE).digest("base64")}'`,
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join("; ");

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
