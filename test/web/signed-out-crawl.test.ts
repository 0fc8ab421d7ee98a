/**
 * Nothing of the console reaches someone who is not signed in. With a held statement, a recent
 * statement, audit rows and a policy that each carry a marker, every route and server action the
 * build contains is requested signed out (no cookie, a forged one, an expired one), as a page and
 * as the router's RSC fetches; no marker may appear in any answer, and every non-public route must
 * refuse. Then a viewer: every page is open to them (and shows the markers, which proves they are
 * there to leak), but what needs another role is refused.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { after, before, test } from "node:test";
import { encode } from "@auth/core/jwt";
import pg from "pg";
import { relatedAuditRows } from "../../lib/audit/queries";
import { openStore } from "../../lib/db/client";
import { startAirlock, type RunningAirlock } from "../support/airlock-server";
import { agentToken, proxyPort } from "../support/server-agent";
import { makeTempDir } from "../support/temp-dir";
import { signInOverHttp } from "./http-session";
import { builtRoutes, builtServerActions, type Route, type ServerAction } from "./routes";

/** React's own encoder of server action arguments, the copy Next.js ships, so the posts are what a browser sends. */
const { encodeReply } = createRequire(import.meta.url)("next/dist/compiled/react-server-dom-webpack/client.node") as {
  encodeReply(args: unknown[]): Promise<string | FormData>;
};
const AUTH_SECRET = randomBytes(32).toString("hex");
const SESSION_COOKIE = "authjs.session-token";
const MARKERS = {
  heldSql: "zq7heldsql",
  heldParam: "zq7heldparam",
  recent: "zq7recentstmt",
  policyComment: "zq7policycomment",
  rule: "zq7-agents-write",
};
/**
 * Sign-in itself (next-auth's endpoints and SAML's: start, assertion consumer, SP metadata), health
 * and readiness probes answer the signed-out; none shows data.
 */
const PUBLIC = new Set(["/signin", "/api/health", "/api/ready", "/api/auth/[...nextauth]", "/api/auth/saml/login", "/api/auth/saml/acs", "/api/auth/saml/metadata", "/_not-found", "/_global-error"]);
const REFUSED = new Set([301, 302, 303, 307, 308, 401, 403]);
/** Pages for admins only (lib/identity/permissions.ts): not there (404) for a viewer. */
const ADMIN_PAGES = new Set(["/status"]);
/** What the router sends: a page, its RSC payload, the same for a browser that has the layouts, prefetches. */
const VARIANTS: Array<{ name: string; headers: (route: Route) => Record<string, string> }> = [
  { name: "plain", headers: () => ({}) },
  { name: "RSC", headers: () => ({ RSC: "1" }) },
  { name: "RSC + state tree", headers: (r) => ({ RSC: "1", "Next-Router-State-Tree": r.stateTree }) },
  { name: "prefetch", headers: (r) => ({ RSC: "1", "Next-Router-Prefetch": "1", "Next-Router-State-Tree": r.stateTree }) },
  { name: "segment prefetch", headers: (r) => ({ RSC: "1", "Next-Router-Prefetch": "1", "Next-Router-Segment-Prefetch": "/_tree", "Next-Router-State-Tree": r.stateTree }) },
];

const dir = makeTempDir("signed-out-crawl");
let server: RunningAirlock;
let agent: pg.Client;
let requestId: string;
let routes: Route[];
let actions: ServerAction[];
/** Signed out in three ways: the proxy gate stops the first; only each page's own check stops the others. */
let signedOut: Array<{ name: string; cookie?: string }>;

before(async () => {
  const policy = fs
    .readFileSync("airlock.policy.yaml", "utf8")
    .replace("name: agents-write", `name: ${MARKERS.rule}`)
    .concat(`\n# ${MARKERS.policyComment}\n`);
  fs.writeFileSync(path.join(dir.path, "policy.yaml"), policy);
  server = await startAirlock({ env: { AUTH_SECRET, AIRLOCK_POLICY: path.join(dir.path, "policy.yaml") } });

  // Return mode: the write is refused at once and its request stays pending while we look.
  agent = new pg.Client({
    host: "127.0.0.1",
    port: await proxyPort(server),
    user: "reporting-agent",
    password: await agentToken(server),
    database: "demo",
    application_name: "crawl airlock-mode=return",
  });
  await agent.connect();
  await agent.query(`SELECT '${MARKERS.recent}' AS marker`);
  const held = await agent.query(`UPDATE customers SET name = $1 WHERE country = '${MARKERS.heldSql}'`, [MARKERS.heldParam]).catch((err: Error) => err);
  assert.ok(held instanceof Error, "the write is held, not run");
  requestId = /request (r_[0-9a-f]+)/.exec(held.message)![1];
  const auditId = await firstAuditRowOf(requestId);

  routes = builtRoutes({
    "/audit/[id]": { id: String(auditId) },
    "/requests/[id]": { id: requestId },
    "/api/v1/access-requests/[id]": { id: requestId },
    "/api/v1/grants/[id]": { id: "g_0123456789ab" },
    "/api/auth/[...nextauth]": { nextauth: "session" },
  });
  actions = builtServerActions(routes);
  const expired = await encode({ token: { sub: "admin@example.com", email: "admin@example.com", groups: ["airlock-admins"] }, secret: AUTH_SECRET, salt: SESSION_COOKIE, maxAge: -60 });
  signedOut = [{ name: "no cookie" }, { name: "forged cookie", cookie: `${SESSION_COOKIE}=forged` }, { name: "expired session", cookie: `${SESSION_COOKIE}=${expired}` }];
});

after(async () => {
  await agent?.end().catch(() => undefined);
  await server?.stop();
  dir.remove();
});

async function firstAuditRowOf(id: string): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const store = await openStore({ dataDir: server.dataDir });
    const rows = await relatedAuditRows(store, { requestId: id }).finally(() => store.close());
    if (rows.length > 0) return rows[0].id;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no audit row for ${id}`);
}

/** One request; the answer's headers and body as one text to search. */
async function send(method: string, url: string, headers: Record<string, string>, body?: string | FormData): Promise<{ status: number; text: string }> {
  const res = await fetch(`${server.url}${url}`, { method, headers, body, redirect: "manual" });
  const head = [...res.headers].map(([k, v]) => `${k}: ${v}`).join("\n");
  return { status: res.status, text: `${head}\n\n${await res.text()}` };
}

function leaked(text: string): string[] {
  return Object.values(MARKERS).filter((m) => text.includes(m));
}

test("every route refuses the signed-out, as a page and as RSC, and shows none of the data", async () => {
  assert.ok(routes.filter((r) => r.kind === "page").length >= 8, "the build lists the console's pages");
  const failures: string[] = [];
  for (const route of routes) {
    const isPublic = PUBLIC.has(route.appPath.replace(/\/(page|route)$/, "").replace(/\/\([^)]+\)/g, "") || "/");
    // A route handler is asked with every method; one it does not export answers 405, and at least one must be a refusal.
    const methods = route.kind === "page" ? ["GET"] : ["GET", "POST", "DELETE"];
    let refusals = 0;
    for (const who of signedOut) {
      for (const variant of VARIANTS) {
        for (const method of methods) {
          const headers = { ...variant.headers(route), ...(who.cookie ? { cookie: who.cookie } : {}) };
          const { status, text } = await send(method, route.url, headers);
          const where = `${method} ${route.url} (${route.appPath}), ${who.name}, ${variant.name}: ${status}`;
          const markers = leaked(text);
          if (markers.length > 0) failures.push(`${where} shows ${markers.join(", ")}`);
          if (REFUSED.has(status)) refusals++;
          else if (!isPublic && !(status === 405 && route.kind === "route")) failures.push(`${where} is not a redirect, 401 or 403`);
        }
      }
    }
    if (!isPublic && refusals === 0) failures.push(`${route.url} (${route.appPath}) refused nothing: no method of it was asked`);
  }
  assert.deepEqual(failures, []);
});

test("every server action refuses the signed-out and changes nothing", async () => {
  const failures: string[] = [];
  for (const action of actions) {
    for (const who of signedOut) {
      const res = await postAction(action, who.cookie);
      const markers = leaked(res.text);
      if (markers.length > 0) failures.push(`${action.name}, ${who.name}: shows ${markers.join(", ")}`);
      if (/"ok":true/.test(res.text)) failures.push(`${action.name}, ${who.name}: succeeded`);
    }
  }
  assert.deepEqual(failures, []);
  const cookie = await signInOverHttp(server.url, "admin@example.com");
  const request = await send("GET", `/requests/${requestId}`, { cookie });
  assert.match(request.text, /data-testid="request-status">pending</, "no signed-out decision reached the request");
});

test("a viewer reads every page but the admins' (the markers are there to leak) and may not export, decide or revoke", async () => {
  const cookie = await signInOverHttp(server.url, "carol@example.com");
  const pages = routes.filter((r) => r.kind === "page" && !r.appPath.includes("/_"));
  const seen = new Set<string>();
  const adminCookie = await signInOverHttp(server.url, "admin@example.com");
  for (const route of pages) {
    const { status, text } = await send("GET", route.url, { cookie });
    if (route.url === "/signin") {
      assert.equal(status, 307, "a signed-in person is sent on from sign-in");
      continue;
    }
    if (ADMIN_PAGES.has(route.url)) {
      assert.equal(status, 404, `${route.url} as a viewer`);
      assert.deepEqual(leaked(text), [], `${route.url} as a viewer`);
      assert.equal((await send("GET", route.url, { cookie: adminCookie })).status, 200, `${route.url} as an admin`);
      continue;
    }
    assert.equal(status, 200, `${route.url} as a viewer`);
    for (const m of leaked(text)) seen.add(m);
  }
  assert.deepEqual([...seen].sort(), Object.values(MARKERS).sort(), "signed in, the pages show every marker");

  const exported = await send("GET", "/api/audit/export?format=jsonl", { cookie });
  assert.equal(exported.status, 403);
  assert.deepEqual(leaked(exported.text), []);
  const adminExport = await send("GET", "/api/audit/export?format=jsonl", { cookie: adminCookie });
  assert.equal(adminExport.status, 200);
  assert.ok(adminExport.text.includes(MARKERS.heldSql), "an admin's export has the held statement");

  for (const name of ["decideRequest", "revokeGrant"]) {
    const action = actions.find((a) => a.name === name)!;
    const res = await postAction(action, cookie);
    assert.match(res.text, /"ok":false/, `${name} as a viewer`);
    assert.match(res.text, /your role does not allow this/, `${name} as a viewer`);
  }
});

test("an approver's explain box answers (so a signed-out refusal above is the check, not a bad post)", async () => {
  const cookie = await signInOverHttp(server.url, "alice@example.com");
  const explain = actions.find((a) => a.name === "explainStatement")!;
  const res = await postAction(explain, cookie);
  assert.match(res.text, /"ok":true/);
  assert.ok(res.text.includes(MARKERS.rule), "the explanation names the rule");
});

/**
 * Posts a server action as the browser does, `(previousState, formData)` encoded by React. The
 * form is one that would succeed for someone allowed (approve the held request, explain a write).
 */
async function postAction(action: ServerAction, cookie?: string): Promise<{ status: number; text: string }> {
  const fields: Record<string, string> = {
    requestId,
    decision: "approve:once",
    grantId: "g_0123456789ab",
    agent: "reporting-agent",
    groups: "agents",
    resource: "demo",
    sql: `UPDATE customers SET name = 'x' WHERE country = '${MARKERS.heldSql}'`,
    next: "/",
  };
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.set(name, value);
  const body = await encodeReply([undefined, form]);
  return send("POST", action.url, { "Next-Action": action.id, Accept: "text/x-component", ...(cookie ? { cookie } : {}) }, body);
}
