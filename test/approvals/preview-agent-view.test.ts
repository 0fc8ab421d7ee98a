import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import pg from "pg";
import { previewOf } from "../../lib/approvals/preview/store";
import { previewLines } from "../../lib/approvals/preview/lines";
import type { DryRun, ImpactPreview, StatementPreview } from "../../lib/approvals/preview/types";
import { pendingRequest } from "../support/pending-request";
import { startProxiedPostgres, type ProxiedPostgres } from "../support/proxied-postgres";

/**
 * The impact preview sees what the agent's statement would run and shows only what the agent
 * could read: the row filter's rewritten text, masking, tables and columns the agent may not read
 * withheld, and parameters bound in the format the agent sent them.
 */
const RULES = `rules:
  - name: agents-read
    match: { groups: [agents], kinds: [select], tables: [public.accounts, public.numbers] }
    action: allow
    mask: { columns: ["accounts.email"] }
  - name: eu-reads
    match: { groups: [agents], kinds: [select], tables: [public.regions, public.tickets] }
    action: allow
    rows: { "public.regions": "region = 'eu'", "public.tickets": "region = 'eu'" }
  - name: eu-writes
    match: { groups: [agents], tables: [public.regions] }
    action: review
    rows: { "public.regions": "region = 'eu'" }
    review: { approvers: [db-approvers], preview: count }
  - name: agents-write
    match: { groups: [agents], kinds: [insert, update, delete] }
    action: review
    review: { approvers: [db-approvers], preview: count }`;

const SETUP = `
create table accounts (id int primary key, owner text not null, email text, balance numeric not null);
insert into accounts select g, 'owner ' || g, 'user' || g || '@example.com', g * 10 from generate_series(1, 10) g;
create table regions (id int primary key, region text not null, v int not null);
insert into regions select g, case when g <= 10 then 'eu' else 'us' end, g from generate_series(1, 40) g;
create table secrets (id int primary key, note text not null);
insert into secrets select g, 'secret ' || g from generate_series(1, 3) g;
create table tickets (id int primary key, region text not null, subject text not null);
insert into tickets select g, case when g <= 2 then 'eu' else 'us' end, 'ticket ' || g from generate_series(1, 6) g;
create table numbers (id int primary key, v int not null);
insert into numbers select g, g from generate_series(1, 10) g;
analyze;`;

let db: ProxiedPostgres;

before(async () => {
  db = await startProxiedPostgres(RULES, SETUP);
});
after(() => db.stop());

/** Holds the statement through the proxy, waits for its preview, then leaves (the request is cancelled). */
async function previewOfHeld(text: string, values?: unknown[]): Promise<ImpactPreview> {
  const client = new pg.Client({ connectionString: await db.harness.url("pg"), application_name: "preview-agent-view-test" });
  client.on("error", () => undefined);
  await client.connect();
  try {
    client.query(text, values).catch(() => undefined);
    const request = await pendingRequest(db.harness.approvals, text);
    for (let i = 0; i < 300; i++) {
      const preview = await previewOf(db.harness.store, request.id);
      if (preview) return preview;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`no preview for ${text}`);
  } finally {
    await client.end();
  }
}

function dryRunOf(s: StatementPreview): DryRun {
  assert.ok(s.dryRun && "rows" in s.dryRun, `a dry run: ${JSON.stringify(s.dryRun)}`);
  return s.dryRun;
}

function estimateOf(s: StatementPreview): number {
  assert.ok(s.estimate && "rows" in s.estimate, `an estimate: ${JSON.stringify(s.estimate)}`);
  return s.estimate.rows;
}

const int4 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
};

describe("the impact preview sees what the agent would", () => {
  test("under a row filter, the estimate and the dry run run the rewritten statement: no row outside the filter is counted or sampled", async () => {
    const before = JSON.stringify((await db.admin.query("select * from regions order by id")).rows);
    const [s] = (await previewOfHeld("update regions set v = v + $1 where id > $2", ["1", "0"])).statements;
    assert.ok(estimateOf(s) <= 15, `the estimate counts the filtered rows only: ${estimateOf(s)}`);
    const run = dryRunOf(s);
    assert.equal(run.rows, 10, "only the 10 rows with region eu");
    assert.ok(run.sample.length > 0);
    const region = run.columns.indexOf("region");
    for (const row of run.sample) {
      assert.equal(row.after?.[region], "eu");
      assert.equal(row.before?.[region], "eu");
    }
    assert.equal(JSON.stringify((await db.admin.query("select * from regions order by id")).rows), before, "nothing changed");
  });

  test("a table the agent may not read: the count, and the sample withheld with the reason", async () => {
    const [s] = (await previewOfHeld("update secrets set note = note || '!'")).statements;
    const run = dryRunOf(s);
    assert.equal(run.rows, 3);
    assert.deepEqual(run.sample, []);
    assert.equal(run.sampleNote, "sample withheld: the agent may not read public.secrets");
    assert.doesNotMatch(JSON.stringify(s), /secret \d/);
    assert.match(previewLines({ at: "", tookMs: 0, statements: [s] }).join("\n"), /3 rows \(dry run\)[\s\S]*sample withheld: the agent may not read public\.secrets/);
  });

  test("a table the agent reads only through a row filter the write does not share: the count, and the sample withheld", async () => {
    const [s] = (await previewOfHeld("update tickets set subject = subject || '!'")).statements;
    const run = dryRunOf(s);
    assert.equal(run.rows, 6);
    assert.deepEqual(run.sample, []);
    assert.equal(run.sampleNote, "sample withheld: the agent reads only the rows of public.tickets its row filter lets through");
    assert.doesNotMatch(JSON.stringify(s), /ticket \d/);
  });

  test("a column from a table the agent may not read is withheld; the others shown, masked as the agent reads them", async () => {
    const [s] = (await previewOfHeld("update accounts a set balance = a.balance from secrets s where s.id = a.id returning a.id, a.email, s.note")).statements;
    const run = dryRunOf(s);
    assert.equal(run.rows, 3);
    assert.deepEqual(run.columns, ["id", "email", "note"]);
    assert.equal(run.sample.length, 3);
    for (const row of run.sample) {
      assert.match(String(row.after?.[0]), /^[123]$/);
      assert.doesNotMatch(String(row.after?.[1]), /^user\d+@/, "masked");
      assert.equal(row.after?.[2], "[withheld]");
    }
    assert.doesNotMatch(JSON.stringify(s), /secret \d/);
    assert.match(run.sampleNote ?? "", /withheld: note \(the agent may not read public\.secrets\)/);
  });

  test("parameters the agent sent in binary format are bound in binary: the estimate and the dry run see its values", async () => {
    const before = JSON.stringify((await db.admin.query("select * from numbers order by id")).rows);
    // node-postgres sends a Buffer as a binary-format parameter (format code 1).
    const [s] = (await previewOfHeld("update numbers set v = v + $1 where id <= $2", [int4(5), int4(3)])).statements;
    assert.ok(estimateOf(s) >= 1, "planned with its values");
    const run = dryRunOf(s);
    assert.equal(run.rows, 3);
    const v = run.columns.indexOf("v");
    for (const row of run.sample) assert.equal(Number(row.after?.[v]), Number(row.before?.[v]) + 5);
    assert.equal(JSON.stringify((await db.admin.query("select * from numbers order by id")).rows), before, "nothing changed");
  });
});
