/**
 * Issue 23, fail closed on the audit trail: while the store is down, statements run and their
 * records wait in memory — until AIRLOCK_AUDIT_MAX_UNWRITTEN of them wait. From then on every
 * statement is refused (57P03) rather than run unaudited; once the store is back the backlog is
 * written, statements run again, and every statement that ran is in the trail, which verifies.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import pg from "pg";
import { verifyChain } from "../../lib/audit/verify";
import { startPostgres, type TestPostgres } from "../support/postgres";
import { startProxyHarness, type ProxyHarness } from "../support/proxy-harness";
import { createStoreDatabase } from "../support/store";

const MAX_UNWRITTEN = 20;
const RULES = "rules:\n  - { name: reads, match: { kinds: [select] }, action: allow }";

let target: TestPostgres;
let storeServer: TestPostgres;
let harness: ProxyHarness;

before(async () => {
  [target, storeServer] = await Promise.all([startPostgres(), startPostgres()]);
  harness = await startProxyHarness({ pg: target.url }, { rules: RULES, storeUrl: await createStoreDatabase(storeServer), env: { AIRLOCK_AUDIT_MAX_UNWRITTEN: String(MAX_UNWRITTEN) } });
});
after(async () => {
  await harness?.close();
  await Promise.all([target?.stop(), storeServer?.stop()]);
});

test("with the store down, statements run until the unwritten backlog is full, then are refused 57P03; once it is back all that ran is recorded", async () => {
  const client = new pg.Client({ connectionString: await harness.url("pg") });
  client.on("error", () => undefined);
  await client.connect();
  try {
    let ran = 0;
    for (let i = 0; i < 5; i++, ran++) await client.query(`select ${i} as before_outage`);
    await harness.recorder.flush();

    await storeServer.shutDown();
    let refusal: (Error & { code?: string }) | undefined;
    for (let i = 0; i < MAX_UNWRITTEN * 2 && !refusal; i++) {
      try {
        await client.query(`select ${i} as during_outage`);
        ran++;
      } catch (err) {
        refusal = err as Error & { code?: string };
      }
    }
    assert.ok(refusal, "refused once the backlog was full");
    assert.equal(refusal.code, "57P03");
    assert.match(refusal.message, /audit trail cannot be written/);
    assert.ok(ran - 5 <= MAX_UNWRITTEN, `${ran - 5} ran during the outage, at most ${MAX_UNWRITTEN} may wait`);
    // The session goes on: still refused, not ended.
    await assert.rejects(client.query("select 1"), /audit trail cannot be written/);

    await storeServer.start();
    let back = false;
    for (let i = 0; i < 100 && !back; i++) {
      try {
        await client.query("select 'after' as after_outage");
        ran++;
        back = true;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    assert.ok(back, "statements run again once the store takes the backlog");
    await harness.recorder.flush();
    const recorded = await harness.store.sql.all<{ text: string; outcome: string }>("select text, outcome from statements order by id");
    assert.equal(recorded.filter((r) => r.outcome === "ok").length, ran, "every statement that ran is recorded");
    const verdict = await verifyChain(harness.store);
    assert.equal(verdict.ok, true, JSON.stringify(verdict));
  } finally {
    await client.end();
  }
});
