/**
 * GET /api/audit/export on a real Airlock: who may download, what a bad query gets, and that
 * 100,000 rows leave as a stream while the server's memory stays flat.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import { after, before, test } from "node:test";
import { encode } from "@auth/core/jwt";
import { AuditLog, type AuditEntry } from "../../lib/audit/log";
import { openStore } from "../../lib/db/client";
import { readServerInfo } from "../../lib/server-info";
import { startAirlock, type RunningAirlock } from "../support/airlock-server";
import { makeTempDir } from "../support/temp-dir";

const ROWS = 100_000;
const AUTH_SECRET = randomBytes(32).toString("hex");
/** next-auth's session cookie over plain HTTP; its name is also the key derivation's salt. */
const SESSION_COOKIE = "authjs.session-token";

const dir = makeTempDir("audit-export-route");
let server: RunningAirlock;
/** When the first seeded row happened; row n is n × 100 ms later. */
let seededFrom = 0;

before(async () => {
  // Rows of the last few hours, so retention at start keeps them all.
  const store = await openStore({ dataDir: dir.path, migrationsFolder: "drizzle" });
  const log = new AuditLog(store);
  const start = (seededFrom = Date.now() - ROWS * 100);
  for (let batch = 0; batch < ROWS / 5_000; batch++) {
    await log.append(
      Array.from({ length: 5_000 }, (_, i): AuditEntry => {
        const n = batch * 5_000 + i;
        return { at: new Date(start + n * 100), type: "statement", agentId: "reporting-agent", resource: "demo", decision: "allowed", sql: `select * from orders where id = ${n}`, tables: ["public.orders"], data: { rows: 1 } };
      }),
    );
  }
  await store.close();
  server = await startAirlock({ dataDir: dir.path, env: { AUTH_SECRET } });
});
after(async () => {
  await server?.stop();
  dir.remove();
});

/** A dashboard session for a person, as next-auth would have set it after sign-in. */
async function cookieFor(email: string, groups: string[]): Promise<string> {
  const token = await encode({ token: { sub: email, email, name: email, groups }, secret: AUTH_SECRET, salt: SESSION_COOKIE, maxAge: 3600 });
  return `${SESSION_COOKIE}=${token}`;
}

const exportUrl = (query: string) => `${server.url}/api/audit/export${query}`;

test("only admins export: 401 without a session, 403 for a viewer or an approver", async () => {
  const anonymous = await fetch(exportUrl("?format=csv"));
  assert.equal(anonymous.status, 401);
  assert.equal(((await anonymous.json()) as { error: { code: string } }).error.code, "unauthenticated");
  for (const [email, groups] of [["carol@example.com", ["engineering"]], ["alice@example.com", ["db-approvers"]]] as const) {
    const res = await fetch(exportUrl("?format=csv"), { headers: { cookie: await cookieFor(email, [...groups]) } });
    assert.equal(res.status, 403, email);
    assert.deepEqual(Object.keys(((await res.json()) as { error: object }).error).sort(), ["code", "message"]);
  }
  const forged = await fetch(exportUrl("?format=csv"), { headers: { cookie: `${SESSION_COOKIE}=not-a-token` } });
  assert.equal(forged.status, 401, "a cookie that does not decrypt is no session");
});

test("a bad format or date is a 400 that says which", async () => {
  const cookie = await cookieFor("admin@example.com", ["airlock-admins"]);
  const cases: Array<[string, string, RegExp]> = [
    ["?format=xml", "bad_format", /jsonl or csv/],
    ["?format=csv&from=yesterday", "bad_date", /from must be a date/],
    ["?to=2026-99-99", "bad_date", /to must be a date/],
  ];
  for (const [query, code, message] of cases) {
    const res = await fetch(exportUrl(query), { headers: { cookie } });
    assert.equal(res.status, 400, query);
    const body = (await res.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, code, query);
    assert.match(body.error.message, message, query);
  }
});

test(`an admin downloads ${ROWS.toLocaleString("en-US")} rows as CSV, streamed, while the server's memory stays flat`, async () => {
  const cookie = await cookieFor("admin@example.com", ["airlock-admins"]);
  const pid = readServerInfo(dir.path)?.pid;
  assert.ok(pid, "server.json names the server's process");
  const rss = () => Number(/VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]) * 1024;
  // Warm the route up first: its first call loads the route's code, which is not the export's cost.
  await (await fetch(exportUrl("?format=csv&from=2000-01-01&to=2000-01-02"), { headers: { cookie } })).text();
  // Airlock grows by several hundred MB in its first seconds on its own (the embedded demo
  // database starting in its worker): measure from when that has settled.
  await settled(rss);

  const rssBefore = rss();
  let rssPeak = rssBefore;
  const started = performance.now();
  const res = await fetch(exportUrl("?format=csv"), { headers: { cookie } });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "text/csv; charset=utf-8");
  assert.match(res.headers.get("content-disposition") ?? "", /^attachment; filename=airlock-audit-\d{4}-\d{2}-\d{2}\.csv$/);
  const reader = res.body!.getReader();
  let bytes = 0;
  let newlines = 0;
  let reads = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    bytes += value.byteLength;
    for (const byte of value) if (byte === 10) newlines++;
    if (++reads % 50 === 0) rssPeak = Math.max(rssPeak, rss());
  }
  const mb = (n: number) => (n / 1_048_576).toFixed(1);
  console.log(`# ${newlines} lines, ${mb(bytes)} MB in ${Math.round(performance.now() - started)} ms; server RSS ${mb(rssBefore)} MB, peak +${mb(rssPeak - rssBefore)} MB`);
  // The seeded rows, the header, and what the server itself recorded at start (policy load…).
  assert.ok(newlines > ROWS && newlines < ROWS + 20, String(newlines));
  assert.ok(rssPeak - rssBefore < 64 * 1_048_576, `server RSS grew ${mb(rssPeak - rssBefore)} MB while sending ${mb(bytes)} MB`);
});

/** Resolves once `measure` has moved less than 4 MB over two seconds (or after 60 s). */
async function settled(measure: () => number): Promise<void> {
  const history = [measure()];
  for (let i = 0; i < 60; i++) {
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    history.push(measure());
    if (history.length >= 3 && Math.abs(history.at(-1)! - history.at(-3)!) < 4 * 1_048_576) return;
  }
}

test("JSON lines for a time range; a download abandoned halfway leaves the server serving", async () => {
  const cookie = await cookieFor("admin@example.com", ["airlock-admins"]);
  const from = new Date(seededFrom).toISOString();
  const to = new Date(seededFrom + 1_000).toISOString(); // the first ten rows
  const res = await fetch(exportUrl(`?format=jsonl&from=${from}&to=${to}`), { headers: { cookie } });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "application/x-ndjson");
  assert.match(res.headers.get("content-disposition") ?? "", /filename=airlock-audit-\d{4}-\d{2}-\d{2}\.jsonl$/);
  const lines = (await res.text()).split("\n").filter(Boolean).map((l) => JSON.parse(l) as { id: number; sql: string });
  assert.equal(lines.length, 10);
  assert.deepEqual(lines.map((l) => l.sql.split("= ")[1]), ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]);

  const abandoned = new AbortController();
  const big = await fetch(exportUrl("?format=jsonl"), { headers: { cookie }, signal: abandoned.signal });
  await big.body!.getReader().read();
  abandoned.abort();
  const health = await fetch(`${server.url}/api/health`);
  assert.equal(health.status, 200);
  const again = await fetch(exportUrl(`?format=jsonl&from=${from}&to=${to}`), { headers: { cookie } });
  assert.equal((await again.text()).split("\n").filter(Boolean).length, lines.length);
});
