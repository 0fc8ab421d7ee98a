/**
 * Airlock behind a TLS-terminating proxy that serves it under a path prefix: AIRLOCK_PUBLIC_URL
 * is https://airlock.test:<port>/tools/airlock, and this test plays the proxy (it strips the
 * prefix, sends plain http to Airlock with X-Forwarded-Proto/Host) and the browser (it follows
 * redirects and keeps cookies). Sign-in goes through the development IdP; every URL handed out is
 * the public one, every cookie is Secure, HttpOnly and SameSite=Lax, every response carries the
 * security headers, and the dashboard's scripts carry the CSP nonce.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { freePort } from "../support/postgres";
import { startAirlock, type RunningAirlock } from "../support/airlock-server";

const PREFIX = "/tools/airlock";
let airlock: RunningAirlock;
let publicUrl: string;
const cookies = new Map<string, string>();
/** Every Set-Cookie line seen, by cookie name. */
const setCookies = new Map<string, string>();

before(async () => {
  const port = await freePort();
  publicUrl = `https://airlock.test:${port}${PREFIX}`;
  airlock = await startAirlock({ env: { AIRLOCK_PORT: String(port), AIRLOCK_PUBLIC_URL: publicUrl } });
});
after(async () => {
  await airlock?.stop();
});

test("every response carries the security headers; the dashboard's scripts run only by nonce", async () => {
  const signin = await get(`${publicUrl}/signin`);
  assert.equal(signin.status, 200);
  const csp = assertSecurityHeaders(signin);
  const nonce = /script-src 'self' 'nonce-([A-Za-z0-9+/=]+)' 'strict-dynamic'/.exec(csp)?.[1];
  assert.ok(nonce, csp);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
  assert.match(csp, /frame-ancestors 'none'/);
  assert.match(csp, /upgrade-insecure-requests/);
  const html = await signin.text();
  const scripts = html.match(/<script\b[^>]*>/g) ?? [];
  assert.ok(scripts.length > 0);
  for (const tag of scripts) assert.ok(tag.includes(`nonce="${nonce}"`), tag);

  const second = /'nonce-([^']+)'/.exec(assertSecurityHeaders(await get(`${publicUrl}/signin`)))?.[1];
  assert.notEqual(second, nonce, "a fresh nonce per response");

  const asset = /src="([^"]*\/_next\/static\/[^"]+\.js)"/.exec(html)?.[1];
  assert.ok(asset, "a script asset in the page");
  for (const url of [`${publicUrl}${asset.replace(PREFIX, "")}`, `${publicUrl}/api/health`, `${publicUrl}/api/auth/providers`, `${publicUrl}/oidc/.well-known/openid-configuration`, `${publicUrl}/no-such-page`]) {
    assertSecurityHeaders(await get(url));
  }
});

test("the development IdP and next-auth hand out the public URL, prefix and https included", async () => {
  const discovery = (await (await get(`${publicUrl}/oidc/.well-known/openid-configuration`)).json()) as Record<string, string>;
  assert.equal(discovery.issuer, `${publicUrl}/oidc`);
  assert.equal(discovery.authorization_endpoint, `${publicUrl}/oidc/auth`);
  assert.equal(discovery.token_endpoint, `${publicUrl}/oidc/token`);
  // A client's forwarded host does not change them.
  const spoofed = await get(`${publicUrl}/oidc/.well-known/openid-configuration`, { "x-forwarded-host": "evil.example" });
  assert.equal(((await spoofed.json()) as Record<string, string>).authorization_endpoint, `${publicUrl}/oidc/auth`);

  const providers = (await (await get(`${publicUrl}/api/auth/providers`)).json()) as { sso: { signinUrl: string; callbackUrl: string } };
  assert.equal(providers.sso.callbackUrl, `${publicUrl}/api/auth/callback/sso`);
  assert.equal(providers.sso.signinUrl, `${publicUrl}/api/auth/signin/sso`);
});

test("alice signs in through the development IdP behind the proxy; her cookies are Secure, HttpOnly and Lax", async () => {
  cookies.clear();
  const { csrfToken } = (await (await get(`${publicUrl}/api/auth/csrf`)).json()) as { csrfToken: string };
  const started = await send(`${publicUrl}/api/auth/signin/sso`, { method: "POST", body: new URLSearchParams({ csrfToken, callbackUrl: `${publicUrl}/` }) });
  const authorize = new URL(location(started));
  assert.equal(`${authorize.origin}${authorize.pathname}`, `${publicUrl}/oidc/auth`);
  assert.equal(authorize.searchParams.get("redirect_uri"), `${publicUrl}/api/auth/callback/sso`);

  const { res: interaction } = await follow(authorize.href);
  assert.equal(interaction.status, 200);
  const idpCsp = interaction.headers.get("content-security-policy") ?? "";
  assert.match(idpCsp, /default-src 'none'/);
  assert.match(idpCsp, /style-src 'sha256-/);
  assert.doesNotMatch(idpCsp, /script-src|unsafe-inline/);
  const action = /<form method="post" action="([^"]+)"/.exec(await interaction.text())?.[1];
  assert.match(action ?? "", new RegExp(`^${PREFIX}/oidc/interaction/[^/]+/login$`));

  const landed = await follow(new URL(action!, publicUrl).href, { method: "POST", body: new URLSearchParams({ email: "alice@example.com", password: "airlock-dev" }) });
  assert.equal(landed.url, `${publicUrl}/`);
  assert.equal(landed.res.status, 200);
  assert.match(await landed.res.text(), /alice@example\.com/);
  assert.ok(cookies.has("__Secure-authjs.session-token"), [...cookies.keys()].join(", "));
});

test("every cookie set on the way is Secure and HttpOnly, and Airlock's own are SameSite=Lax", () => {
  assert.ok(setCookies.size > 0);
  for (const [name, line] of setCookies) {
    assert.match(line, /;\s*secure/i, name);
    assert.match(line, /;\s*httponly/i, name);
    if (name.includes("authjs")) assert.match(line, /;\s*samesite=lax/i, name);
  }
});

/** The proxy's half: the public URL becomes Airlock's own address, minus the prefix. */
function toInternal(url: string): string {
  assert.ok(url.startsWith(`${publicUrl}/`) || url === publicUrl, `not under the public URL: ${url}`);
  return `${airlock.url}${url.slice(publicUrl.length) || "/"}`;
}

function get(url: string, headers: Record<string, string> = {}): Promise<Response> {
  return send(url, { headers });
}

async function send(url: string, init: { method?: string; body?: URLSearchParams; headers?: Record<string, string> } = {}): Promise<Response> {
  const res = await fetch(toInternal(url), {
    method: init.method ?? "GET",
    body: init.body,
    redirect: "manual",
    headers: {
      host: new URL(publicUrl).host,
      "x-forwarded-proto": "https",
      "x-forwarded-host": new URL(publicUrl).host,
      cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join("; "),
      ...init.headers,
    },
  });
  for (const line of res.headers.getSetCookie()) {
    const [pair] = line.split(";");
    const eq = pair.indexOf("=");
    const name = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1);
    setCookies.set(name, line);
    if (value === "" || /max-age=0|expires=thu, 01 jan 1970/i.test(line)) cookies.delete(name);
    else cookies.set(name, value);
  }
  return res;
}

/** Follows redirects as a browser would, resolving each against the public URL. */
async function follow(url: string, init: { method?: string; body?: URLSearchParams } = {}): Promise<{ res: Response; url: string }> {
  let res = await send(url, init);
  let current = url;
  for (let hops = 0; res.status >= 300 && res.status < 400; hops++) {
    assert.ok(hops < 10, "too many redirects");
    current = new URL(location(res), current).href;
    res = await send(current);
  }
  return { res, url: current };
}

function location(res: Response): string {
  const value = res.headers.get("location");
  assert.ok(value, `status ${res.status} without a Location`);
  return value;
}

function assertSecurityHeaders(res: Response): string {
  const where = res.url;
  assert.equal(res.headers.get("x-frame-options"), "DENY", where);
  assert.equal(res.headers.get("x-content-type-options"), "nosniff", where);
  assert.equal(res.headers.get("referrer-policy"), "strict-origin-when-cross-origin", where);
  assert.match(res.headers.get("strict-transport-security") ?? "", /max-age=\d+/, where);
  const csp = res.headers.get("content-security-policy") ?? "";
  assert.match(csp, /frame-ancestors 'none'/, where);
  return csp;
}
