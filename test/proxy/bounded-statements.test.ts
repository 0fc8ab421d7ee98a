import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { createElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { desc } from "drizzle-orm";
import { recentStatements } from "../../lib/activity/queries";
import { STATEMENT_PREFIX_BYTES } from "../../lib/activity/statement-text";
import { verifyChain } from "../../lib/audit/verify";
import { LiveSessionsTable } from "../../components/sessions/live-sessions-table";
import { RecentStatementsTable } from "../../components/sessions/recent-statements-table";
import { AuditRecord } from "../../components/audit/audit-record";
import { writeQuery } from "../../proxy/protocol/writer";
import { answersUntilReady, errorsOf } from "../policy/wire";
import { startPostgres, type TestPostgres } from "../support/postgres";
import { startProxyHarness, type ProxyHarness } from "../support/proxy-harness";
import { RawWireClient } from "../support/raw-wire-client";

const MiB = 1024 * 1024;
let server: TestPostgres;
let harness: ProxyHarness;

before(async () => {
  server = await startPostgres();
  harness = await startProxyHarness({ pg: server.url }, { env: { AIRLOCK_MAX_STATEMENT_BYTES: "64MB" } });
});
after(async () => {
  for (let i = 0; i < 100 && harness.live.size > 0; i++) await new Promise((r) => setTimeout(r, 20));
  await harness.close();
  await server.stop();
});

test("a 50 MB statement is stored as a 16 KiB prefix with its length and hash, and shown so", async () => {
  // Multi-byte characters around the cut: the prefix must end on a character boundary.
  const text = `select length('${"é".repeat(STATEMENT_PREFIX_BYTES)}${"x".repeat(50 * MiB - 3 * STATEMENT_PREFIX_BYTES)}')`;
  const bytes = Buffer.byteLength(text);
  const sha256 = createHash("sha256").update(text).digest("hex");

  const token = await harness.idp.token("reporting-agent");
  const raw = await RawWireClient.connect(harness.proxy.port);
  await raw.login("reporting-agent", "pg", token);
  raw.socket.write(writeQuery(text));
  // Parsed, hashed and run at 50 MB: seconds on a loaded machine (CI took over 5 s once).
  assert.deepEqual(errorsOf(await answersUntilReady(raw, 1, 60_000)), [], "it ran");
  await harness.recorder.flush();

  const { statements, auditLog } = harness.store.tables;
  const [row] = await harness.store.db.select().from(statements).orderBy(desc(statements.id)).limit(1);
  assert.ok(Buffer.byteLength(row.text) <= STATEMENT_PREFIX_BYTES, "the row holds at most the prefix");
  assert.ok(text.startsWith(row.text) && row.text.length > 1000, "and it is the statement's start");
  assert.equal(row.textBytes, bytes);
  assert.equal(row.textSha256, sha256);

  const [audit] = (await harness.store.db.select().from(auditLog).orderBy(desc(auditLog.id))).filter((r) => r.type === "statement");
  assert.equal(audit.sql, row.text);
  assert.deepEqual((JSON.parse(audit.data) as { sqlFull: unknown }).sqlFull, { bytes, sha256 });
  assert.equal((await verifyChain(harness.store)).ok, true, "the chain still verifies");

  // What /sessions renders: the recent statements (from the store) and the live session's last one.
  const recent = renderToStaticMarkup(createElement(RecentStatementsTable, { statements: await recentStatements(harness.store, 50), now: new Date() }));
  const live = renderToStaticMarkup(createElement(LiveSessionsTable, { sessions: harness.live.list(), now: new Date() }));
  const record = renderToStaticMarkup(createElement(AuditRecord, { row: audit, tables: [] }));
  for (const [name, html] of Object.entries({ recent, live, record })) {
    assert.ok(html.length < 4 * STATEMENT_PREFIX_BYTES, `${name}: ${html.length} characters of HTML`);
    assert.ok(html.includes(`${bytes.toLocaleString("en-US")} bytes`), `${name} says how long the statement was`);
    assert.ok(html.includes(sha256.slice(0, 12)), `${name} shows its hash`);
  }
  raw.close();
});
