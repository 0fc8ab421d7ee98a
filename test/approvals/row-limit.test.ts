import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import pg from "pg";
import type { Decider } from "../../lib/approvals/people";
import { pendingRequest } from "../support/pending-request";
import { startProxiedPostgres, type ProxiedPostgres } from "../support/proxied-postgres";
import { RawWireClient } from "../support/raw-wire-client";
import { readFields } from "../../proxy/protocol/reader";
import { writeBind, writeParse, writeQuery } from "../../proxy/protocol/writer";

const RULES = `rules:
  - name: agents-read
    match: { groups: [agents], kinds: [select, session] }
    action: allow
  - name: agents-write
    match: { groups: [agents], kinds: [insert, update, delete] }
    action: review
    review: { approvers: [db-approvers], count: 1, timeout: 10m, grants: [once, 15m] }`;

const alice: Decider = { email: "alice@example.com", groups: ["db-approvers"], role: "approver" };

let db: ProxiedPostgres;

before(async () => {
  db = await startProxiedPostgres(RULES);
});
after(() => db.stop());

/** A fresh table of `n` rows, all 'new'. */
async function table(name: string, n = 5): Promise<void> {
  await db.admin.query(`create table ${name} (id int primary key, status text); insert into ${name} select g, 'new' from generate_series(1, ${n}) g`);
}

async function statuses(name: string): Promise<string[]> {
  return (await db.admin.query(`select status from ${name} order by id`)).rows.map((r) => r.status as string);
}

async function agent(): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: await db.harness.url("pg"), application_name: "row-limit-test" });
  client.on("error", () => undefined);
  await client.connect();
  return client;
}

/** Approves the held statement `text` for at most `maxRows` rows, once it is pending. */
async function approveWithLimit(text: string, maxRows: number): Promise<string> {
  const request = await pendingRequest(db.harness.approvals, text);
  const result = await db.harness.approvals.decide({ requestId: request.id, person: alice, action: "approve", maxRows, via: "web" });
  assert.ok(result.ok, result.ok ? "" : result.message);
  return request.id;
}

function limitError(id: () => string, max: number, changed: number) {
  return (err: { code?: string; message: string }) => {
    assert.equal(err.code, "42501");
    assert.equal(err.message, `airlock: request ${id()} was approved for at most ${max} ${max === 1 ? "row" : "rows"}, but the statement changed ${changed}; Airlock rolled it back`);
    return true;
  };
}

describe("approved for at most N rows, in autocommit", () => {
  test("simple protocol: over the limit it is rolled back and the agent told the limit and the count; the session goes on", async () => {
    await table("auto_simple");
    const client = await agent();
    try {
      const text = "update auto_simple set status = 'done' where id <= 4";
      const running = client.query(text);
      let id = "";
      id = await approveWithLimit(text, 3);
      await assert.rejects(running, limitError(() => id, 3, 4));
      assert.deepEqual(await statuses("auto_simple"), ["new", "new", "new", "new", "new"], "nothing of it stays");
      const pid = (await client.query("select pg_backend_pid() as pid")).rows[0].pid;
      const state = await db.admin.query("select state from pg_stat_activity where pid = $1", [pid]);
      assert.equal(state.rows[0].state, "idle", "the session goes on, outside any transaction");
      const [decision] = await db.harness.approvals.decisions(id);
      assert.equal(decision.maxRows, 3, "the limit is recorded with the approval");
    } finally {
      await client.end();
    }
  });

  test("simple protocol: within the limit it runs and commits, with its own command tag", async () => {
    await table("auto_within");
    const client = await agent();
    try {
      const text = "update auto_within set status = 'done' where id <= 2";
      const running = client.query(text);
      await approveWithLimit(text, 2);
      const result = await running;
      assert.equal(result.command, "UPDATE");
      assert.equal(result.rowCount, 2);
      assert.deepEqual(await statuses("auto_within"), ["done", "done", "new", "new", "new"]);
    } finally {
      await client.end();
    }
  });

  test("extended protocol (parameters): over the limit it is rolled back; the next statement runs", async () => {
    await table("auto_extended");
    const client = await agent();
    try {
      const text = "update auto_extended set status = $1 where id <= $2";
      const running = client.query(text, ["done", 5]);
      let id = "";
      id = await approveWithLimit(text, 1);
      await assert.rejects(running, limitError(() => id, 1, 5));
      assert.deepEqual(await statuses("auto_extended"), ["new", "new", "new", "new", "new"]);
      assert.equal((await client.query("select $1::int as n", [7])).rows[0].n, 7);
    } finally {
      await client.end();
    }
  });

  test("extended protocol within the limit: INSERT … RETURNING gives its rows and commits", async () => {
    await table("auto_insert", 0);
    const client = await agent();
    try {
      const text = "insert into auto_insert select g, $1 from generate_series(1, 3) g returning id";
      const running = client.query(text, ["fresh"]);
      await approveWithLimit(text, 3);
      const result = await running;
      assert.deepEqual(result.rows.map((r) => r.id), [1, 2, 3]);
      assert.deepEqual(await statuses("auto_insert"), ["fresh", "fresh", "fresh"]);
    } finally {
      await client.end();
    }
  });
});

describe("approved for at most N rows, inside the agent's transaction", () => {
  for (const protocol of ["simple", "extended"] as const) {
    test(`${protocol} protocol: over the limit the transaction is aborted as after any error, nothing commits, and the rows are not left locked`, async () => {
      await table(`tx_${protocol}`);
      await table(`tx_${protocol}_before`, 0);
      const client = await agent();
      try {
        await client.query("begin");
        await client.query(`select 1 from tx_${protocol} where id = 5`);
        const text = protocol === "simple" ? `update tx_${protocol} set status = 'done' where id <= 3` : `update tx_${protocol} set status = $1 where id <= $2`;
        const running = protocol === "simple" ? client.query(text) : client.query(text, ["done", 3]);
        let id = "";
        id = await approveWithLimit(text, 2);
        await assert.rejects(running, limitError(() => id, 2, 3));
        // Rolled back to Airlock's savepoint (simple) or failed in the group: either way another session may take the rows now.
        if (protocol === "simple") await db.admin.query("set lock_timeout = '2s'; update tx_simple set status = status where id <= 3; reset lock_timeout");
        await assert.rejects(client.query("select 1"), (err: { code?: string }) => err.code === "25P02", "the agent's transaction is aborted, as after any error");
        await client.query("rollback");
        assert.equal((await client.query("select 2 as n")).rows[0].n, 2, "after ROLLBACK the session goes on");
        assert.deepEqual(await statuses(`tx_${protocol}`), ["new", "new", "new", "new", "new"]);
      } finally {
        await client.end();
      }
    });

    test(`${protocol} protocol: within the limit the statement is part of the agent's transaction, which it commits`, async () => {
      await table(`txok_${protocol}`);
      const client = await agent();
      try {
        await client.query("begin");
        const text = protocol === "simple" ? `update txok_${protocol} set status = 'done' where id <= 2` : `update txok_${protocol} set status = $1 where id <= $2`;
        const running = protocol === "simple" ? client.query(text) : client.query(text, ["done", 2]);
        await approveWithLimit(text, 2);
        assert.equal((await running).rowCount, 2);
        assert.deepEqual(await statuses(`txok_${protocol}`), ["new", "new", "new", "new", "new"], "not committed yet");
        assert.equal((await client.query(`select count(*)::int as n from txok_${protocol} where status = 'done'`)).rows[0].n, 2, "the agent sees its change");
        await client.query("commit");
        assert.deepEqual(await statuses(`txok_${protocol}`), ["done", "done", "new", "new", "new"]);
      } finally {
        await client.end();
      }
    });
  }

  test("a limit that cannot be counted from the command tag is refused at approval, with why", async () => {
    await table("cte_limit");
    const client = await agent();
    try {
      const text = "with gone as (delete from cte_limit where id = 1 returning id) update cte_limit set status = 'done' where id = 2";
      const running = client.query(text);
      const request = await pendingRequest(db.harness.approvals, text);
      const refused = await db.harness.approvals.decide({ requestId: request.id, person: alice, action: "approve", maxRows: 5, via: "web" });
      assert.equal(refused.ok, false);
      assert.match(refused.ok ? "" : refused.message, /WITH clause/);
      await db.harness.approvals.decide({ requestId: request.id, person: alice, action: "deny", reason: "no", via: "web" });
      await assert.rejects(running);
    } finally {
      await client.end();
    }
  });
});

describe("a grant's length at approval", () => {
  test("an approver may shorten the longest grant the rule offers, never lengthen it; the grant holds the statement's tables only", async () => {
    await table("shorter");
    const client = await agent();
    try {
      const text = "update shorter set status = 'done' where id = 1";
      const running = client.query(text);
      const request = await pendingRequest(db.harness.approvals, text);
      const longer = await db.harness.approvals.decide({ requestId: request.id, person: alice, action: "approve", grant: 20 * 60_000, via: "web" });
      assert.equal(longer.ok, false);
      assert.match(longer.ok ? "" : longer.message, /never lengthen/);
      const before = Date.now();
      const approved = await db.harness.approvals.decide({ requestId: request.id, person: alice, action: "approve", grant: 5 * 60_000, via: "web" });
      assert.ok(approved.ok);
      await running;
      const grant = approved.ok && approved.request.grantId ? await db.harness.grants.get(approved.request.grantId) : undefined;
      assert.ok(grant, "a grant was made");
      const length = grant.expiresAt.getTime() - before;
      assert.ok(length > 4 * 60_000 && length <= 5 * 60_000 + 1000, `about five minutes, not ${length} ms`);
      assert.deepEqual(grant.scope, [{ kind: "update", table: "public.shorter" }]);
    } finally {
      await client.end();
    }
  });
});

describe("a limited statement inside an unfinished extended-protocol group", () => {
  test("a simple Query sent before the group's Sync cannot run under a limit: refused, named, and the session goes on", async () => {
    await table("mid_group");
    const raw = await RawWireClient.connect(db.harness.proxy.port);
    try {
      const token = new URL(await db.harness.url("pg")).password;
      await raw.login("reporting-agent", "pg", decodeURIComponent(token));
      const text = "update mid_group set status = 'done'";
      // Parse and Bind of a read, then the write as a simple Query, all before any Sync.
      raw.socket.write(Buffer.concat([writeParse("", "select 1"), writeBind("", ""), writeQuery(text)]));
      const request = await pendingRequest(db.harness.approvals, text);
      assert.ok((await db.harness.approvals.decide({ requestId: request.id, person: alice, action: "approve", maxRows: 10, via: "web" })).ok);
      const seen: string[] = [];
      let error = "";
      for (let m = await raw.next(); m && m.type !== 0x5a; m = await raw.next()) {
        seen.push(String.fromCharCode(m.type));
        if (m.type === 0x45) error = readFields(m.body).get("M") ?? "";
      }
      assert.deepEqual(seen, ["N", "1", "2", "E"], "the hold's notice, ParseComplete, BindComplete, then the refusal");
      assert.match(error, /unfinished extended-protocol group/);
      assert.deepEqual(await statuses("mid_group"), ["new", "new", "new", "new", "new"]);
      raw.socket.write(writeQuery("select 41 + 1"));
      const answers: string[] = [];
      for (let m = await raw.next(); m && m.type !== 0x5a; m = await raw.next()) answers.push(String.fromCharCode(m.type));
      assert.deepEqual(answers, ["T", "D", "C"], "the session goes on");
    } finally {
      raw.close();
    }
  });
});
