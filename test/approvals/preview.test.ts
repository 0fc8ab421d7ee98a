import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import pg from "pg";
import { previewOf } from "../../lib/approvals/preview/store";
import { previewLines } from "../../lib/approvals/preview/lines";
import type { DryRun, ImpactPreview, StatementPreview } from "../../lib/approvals/preview/types";
import { relatedAuditRows } from "../../lib/audit/queries";
import { pendingRequest } from "../support/pending-request";
import { startProxiedPostgres, type ProxiedPostgres } from "../support/proxied-postgres";

const RULES = `rules:
  - name: agents-read
    match: { groups: [agents], kinds: [select] }
    action: allow
    mask: { columns: ["accounts.email"] }
  - name: slow
    match: { groups: [agents], tables: [slow] }
    action: review
    review: { approvers: [db-approvers], preview: count, preview_timeout: 1s }
  - name: estimate-only
    match: { groups: [agents], tables: [estimated] }
    action: review
    review: { approvers: [db-approvers] }
  - name: agents-write
    match: { groups: [agents], kinds: [insert, update, delete, merge] }
    action: review
    review: { approvers: [db-approvers], preview: count, preview_timeout: 2s }
  - name: schema-changes
    match: { groups: [agents], kinds: [ddl, truncate] }
    action: review
    review: { approvers: [db-approvers] }`;

const SETUP = `
create table accounts (id int primary key, owner text not null, email text, balance numeric not null);
insert into accounts select g, 'owner ' || g, 'user' || g || '@example.com', g * 10 from generate_series(1, 40) g;
create table ledger (id int primary key, account_id int, amount numeric);
create table payments (account_id int primary key, amount numeric);
insert into payments select g, 1 from generate_series(1, 40, 4) g;
create table slow (id int primary key, v int);
insert into slow values (1, 1);
create table estimated (id int primary key, v int);
insert into estimated select g, g from generate_series(1, 1000) g;
create table audited (id int primary key, v int);
insert into audited select g, g from generate_series(1, 10) g;
create table audit_trail (at timestamptz default now(), what text);
create function log_change() returns trigger language plpgsql as $$ begin insert into audit_trail (what) values (tg_op); return new; end $$;
create trigger audited_log after update on audited for each row execute function log_change();
create function bump(v int) returns int language sql volatile as $$ select v + 1 $$;
create table counters (id serial primary key, v int);
insert into counters (v) values (1), (2);
create table parents (id int primary key);
create table children (id int primary key, parent_id int references parents on delete cascade);
create trigger children_log after delete on children for each row execute function log_change();
insert into parents values (1), (2); insert into children values (10, 1), (20, 2);
analyze;`;

let db: ProxiedPostgres;

before(async () => {
  db = await startProxiedPostgres(RULES, SETUP);
});
after(() => db.stop());

/** Holds the statement through the proxy, waits for its preview, then leaves (the request is cancelled). */
async function previewOfHeld(text: string, values?: unknown[]): Promise<{ preview: ImpactPreview; requestId: string; noticeAt?: number }> {
  const client = new pg.Client({ connectionString: await db.harness.url("pg"), application_name: "preview-test" });
  client.on("error", () => undefined);
  let noticeAt: number | undefined;
  client.on("notice", (n) => (noticeAt ??= n.message?.includes("held for approval") ? Date.now() : undefined));
  await client.connect();
  try {
    client.query(text, values).catch(() => undefined);
    const request = await pendingRequest(db.harness.approvals, text);
    for (let i = 0; i < 300; i++) {
      const preview = await previewOf(db.harness.store, request.id);
      if (preview) return { preview, requestId: request.id, noticeAt };
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

/** Every table's rows and every sequence's state, as text: what a dry run must leave as it was. */
async function snapshot(): Promise<string> {
  const tables = ["accounts", "ledger", "payments", "audited", "audit_trail", "counters", "parents", "children"];
  const rows = await Promise.all(tables.map(async (t) => JSON.stringify((await db.admin.query(`select * from ${t} order by 1`)).rows)));
  const sequence = JSON.stringify((await db.admin.query("select last_value, is_called from counters_id_seq")).rows);
  return [...rows, sequence].join("\n");
}

describe("impact preview of held writes", () => {
  test("UPDATE with parameters: the estimate, the exact count of a dry run and a masked before → after sample; nothing changed", async () => {
    const before = await snapshot();
    const { preview, requestId } = await previewOfHeld("update accounts set balance = balance + $1 where balance > $2", ["5", "300"]);
    const [s] = preview.statements;
    assert.equal(s.kind, "update");
    assert.ok(estimateOf(s) > 0 && estimateOf(s) <= 40, `estimate ${estimateOf(s)}`);
    const run = dryRunOf(s);
    assert.equal(run.rows, 10, "balances 310..400");
    assert.deepEqual(run.columns, ["id", "owner", "email", "balance"]);
    assert.equal(run.sample.length, 5);
    for (const row of run.sample) {
      assert.ok(row.before && row.after);
      assert.equal(row.before[0], row.after[0], "the same row");
      assert.equal(Number(row.after[3]), Number(row.before[3]) + 5);
      assert.doesNotMatch(String(row.after[2]), /^user\d+@/, "the email is masked as the agent's reads would be");
      assert.doesNotMatch(String(row.before[2]), /^user\d+@/);
    }
    assert.match(previewLines(preview).join("\n"), /10 rows \(dry run\)/);
    assert.equal(await snapshot(), before, "the dry run left every table and sequence as it was");
    // Recorded in the audit trail with the request.
    let types: string[] = [];
    for (let i = 0; i < 100 && !types.includes("request.previewed"); i++, await new Promise((r) => setTimeout(r, 50))) types = (await relatedAuditRows(db.harness.store, { requestId })).map((r) => r.type);
    assert.ok(types.includes("request.previewed"), types.join(", "));
  });

  test("its own RETURNING is the sample, masked by its lineage (an expression over a masked column too); a changed primary key gets no before", async () => {
    const own = dryRunOf((await previewOfHeld("update accounts set balance = balance where id = $1 returning id, upper(email) as shouted", [3])).preview.statements[0]);
    assert.equal(own.rows, 1);
    assert.deepEqual(own.columns, ["id", "shouted"]);
    assert.equal(own.sample[0].after?.[0], "3");
    assert.doesNotMatch(String(own.sample[0].after?.[1]), /USER3@/, "masked though computed");
    const moved = dryRunOf((await previewOfHeld("update accounts set id = id + 1000 where id = $1", [4])).preview.statements[0]);
    assert.equal(moved.rows, 1);
    assert.equal(moved.sample[0].before, undefined);
    assert.equal(moved.sample[0].after?.[0], "1004");
    assert.match(moved.sampleNote ?? "", /changes the primary key/);
  });

  test("DELETE, INSERT … SELECT and MERGE with parameters: estimates and exact counts, and the database unchanged", async () => {
    const before = await snapshot();
    const deleted = (await previewOfHeld("delete from accounts where id <= $1", [7])).preview.statements[0];
    assert.ok(estimateOf(deleted) >= 1);
    assert.equal(dryRunOf(deleted).rows, 7);
    assert.ok(dryRunOf(deleted).sample.every((r) => r.before && !r.after));

    const inserted = (await previewOfHeld("insert into ledger (id, account_id, amount) select id, id, $1::numeric from accounts where id > $2", ["3.5", 30])).preview.statements[0];
    assert.equal(inserted.kind, "insert");
    assert.ok(estimateOf(inserted) >= 1);
    assert.equal(dryRunOf(inserted).rows, 10);
    assert.ok(dryRunOf(inserted).sample.every((r) => r.after && !r.before && r.after[2] === "3.5"));

    const merged = (await previewOfHeld("merge into accounts a using payments p on a.id = p.account_id when matched and p.amount >= $1 then update set balance = a.balance + p.amount", [1])).preview.statements[0];
    assert.equal(merged.kind, "merge");
    assert.ok(estimateOf(merged) >= 1);
    assert.equal(dryRunOf(merged).rows, 10);
    assert.equal(await snapshot(), before);
  });

  test("no dry run, with the reason, for a trigger, a user function, a sequence, or a trigger reached by a cascade; estimates only without preview: count", async () => {
    const before = await snapshot();
    const trigger = (await previewOfHeld("update audited set v = v + 1 where id < $1", [5])).preview.statements[0];
    assert.ok(estimateOf(trigger) >= 1);
    assert.match(JSON.stringify(trigger.dryRun), /audited_log on (public\.)?audited/);

    const fn = (await previewOfHeld("update accounts set balance = bump(1) where id = 1")).preview.statements[0];
    assert.match(JSON.stringify(fn.dryRun), /bump/);
    assert.match(JSON.stringify(fn.estimate), /bump/, "nor is it planned: planning may run a function");

    const sequence = (await previewOfHeld("insert into counters (v) select v from counters")).preview.statements[0];
    assert.match(JSON.stringify(sequence.dryRun), /nextval/);

    const cascade = (await previewOfHeld("delete from parents where id = 1")).preview.statements[0];
    assert.match(JSON.stringify(cascade.dryRun), /children_log/);

    const estimated = (await previewOfHeld("update estimated set v = 0 where v > 900")).preview.statements[0];
    assert.ok(Math.abs(estimateOf(estimated) - 100) <= 30, `estimate ${estimateOf(estimated)}`);
    assert.equal(estimated.dryRun, undefined, "the rule asks for no dry run");
    assert.equal(await snapshot(), before);
  });

  test("a row locked by another transaction: no exact count, said so, after the lock timeout; the estimate still comes", async () => {
    const locker = new pg.Client({ connectionString: db.server.url });
    await locker.connect();
    try {
      await locker.query("begin; select * from accounts where id = 2 for update");
      const started = Date.now();
      const { preview, noticeAt } = await previewOfHeld("update accounts set owner = $1 where id = $2", ["someone", 2]);
      const [s] = preview.statements;
      // The preview waited a second for the lock; the agent's notice did not wait for the preview.
      assert.ok(noticeAt !== undefined && noticeAt - started < 900, `notice after ${noticeAt! - started} ms`);
      assert.ok(Date.parse(preview.at) >= noticeAt! + 500, "the preview came after the notice");
      assert.equal(estimateOf(s), 1);
      assert.deepEqual(s.dryRun, { error: "the dry run failed: a row or table it changes is locked by another transaction (perhaps the agent's own): no exact count" });
      assert.ok(Date.now() - started < 10_000, "it gave up at the lock timeout");
      assert.match(previewLines({ at: "", tookMs: 0, statements: [s] }).join("\n"), /No dry run: the dry run failed: a row or table it changes is locked/);
    } finally {
      await locker.query("rollback");
      await locker.end();
    }
  });

  test("a dry run longer than the rule's preview_timeout is cancelled by statement_timeout: no exact count, said so, nothing changed", async () => {
    const before = JSON.stringify((await db.admin.query("select * from slow")).rows);
    const started = Date.now();
    const [s] = (await previewOfHeld("update slow set v = v + 1 where (with recursive c(n) as (select 1 union all select n + 1 from c where n < 100000000) select count(*) from c) > 0")).preview.statements;
    assert.deepEqual(s.dryRun, { error: "the dry run failed: it ran longer than 1000 ms (statement_timeout): no exact count" });
    assert.ok(Date.now() - started < 15_000);
    assert.equal(JSON.stringify((await db.admin.query("select * from slow")).rows), before);
  });

  test("DDL: what it locks, whether it rewrites, the table's size and rows, whether it can be undone", async () => {
    const risk = async (text: string) => {
      const { preview } = await previewOfHeld(text);
      return { risks: preview.statements.flatMap((s) => s.ddl ?? []), lines: previewLines(preview) };
    };
    const volatile = await risk("alter table accounts add column seen timestamptz default clock_timestamp()");
    assert.equal(volatile.risks[0].lock, "ACCESS EXCLUSIVE");
    assert.equal(volatile.risks[0].rewrites, true);
    assert.equal(volatile.risks[0].table, "public.accounts");
    assert.equal(volatile.risks[0].rowsEstimate, 40);
    assert.ok((volatile.risks[0].bytes ?? 0) > 0);
    assert.match(volatile.lines[0], /^rewrites public\.accounts \(\d+ kB, ~40 rows\) under ACCESS EXCLUSIVE: adds column seen with a volatile default/);

    const constant = await risk("alter table accounts add column flag boolean default false");
    assert.equal(constant.risks[0].rewrites, false);

    const type = await risk("alter table accounts alter column owner type varchar(200)");
    assert.equal(type.risks[0].rewrites, true);
    assert.equal(type.risks[0].lock, "ACCESS EXCLUSIVE");

    const index = await risk("create index accounts_owner on accounts (owner)");
    assert.equal(index.risks[0].lock, "SHARE");
    assert.match(index.lines[0], /reads every row of public\.accounts .* under SHARE: builds index accounts_owner, blocking writes/);
    const concurrent = await risk("create index concurrently accounts_email on accounts (email)");
    assert.equal(concurrent.risks[0].lock, "SHARE UPDATE EXCLUSIVE");

    const drop = await risk("drop table ledger");
    assert.equal(drop.risks[0].lock, "ACCESS EXCLUSIVE");
    assert.match(drop.risks[0].undo, /^no/);
    assert.match(drop.lines[0], /public\.ledger .* under ACCESS EXCLUSIVE: drops table ledger and its data\. Undo: no/);
    assert.equal((await db.admin.query("select count(*)::int as n from information_schema.columns where table_name = 'accounts'")).rows[0].n, 4, "nothing of it ran");
  });
});
