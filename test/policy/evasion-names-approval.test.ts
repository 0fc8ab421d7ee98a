import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Decider } from "../../lib/approvals/people";
import type { AccessRequest } from "../../lib/db/schema";
import { demoData } from "../../lib/demo/seed-data";
import { SYNC, writeParse as parse, writeQuery as query } from "../../proxy/protocol/writer";
import { REFUSED, RESOURCES, SHOP_FIXTURE, WireSession, assertAnswers, count, endsGroup, type Resource } from "./evasion-names-support";
import { pendingRequest } from "../support/pending-request";
import { withPolicyProxy } from "./setup";
import { writeBind as bind, writeBindText as bindText, writeClose, writeExecute as execute, type Answer } from "./wire";

/**
 * Issue 13, items 1 and 2: what a person approves is exactly what runs, and a name made one way
 * (protocol Parse, SQL PREPARE, a cursor) and used the other is judged, masked and recorded as
 * the text the server really holds under it. Expected answers are PostgreSQL 15's to the same
 * bytes; Airlock adds its hold notice and refuses (42501) where people have not approved.
 */
const RULES = `rules:
  - name: agents-read
    match: { groups: [agents], kinds: [select] }
    action: allow
    mask: { columns: ["customers.email", "customers.ssn"] }
  - name: agents-write
    match: { groups: [agents], kinds: [insert, update, delete] }
    action: review
    review: { approvers: [db-approvers], count: 1, timeout: 10m }`;

const env = withPolicyProxy({ rules: RULES, fixture: SHOP_FIXTURE, demo: true });
const alice: Decider = { email: "alice@example.com", groups: ["db-approvers"], role: "approver" };

const shop = demoData();
/** Orders no refund refers to: deleting one would succeed, so a count that stays proves nothing ran. */
const LONE_ORDERS = shop.orders.map((o) => o.id).filter((id) => !shop.refunds.some((r) => r.order_id === id)).slice(0, 10);
/** Every SSN and email in the shop, as stored and as the disguising replace() calls would return them. */
const SECRETS = shop.customers.flatMap((c) => [c.ssn, c.ssn.replaceAll("-", "."), c.email, c.email.replace("@", " at ")]);

/** Answers without Airlock's hold notices (01000, which may come before earlier groups' answers); the notices apart. */
function split(groups: Answer[][]): { groups: Answer[][]; held: Answer[] } {
  const isHold = (a: Answer) => a.type === "N" && a.code === "01000" && /^airlock: held for approval/.test(a.message ?? "");
  return { groups: groups.map((g) => g.filter((a) => !isHold(a))), held: groups.flat().filter(isHold) };
}


async function approve(request: AccessRequest): Promise<void> {
  const decided = await env().harness.approvals.decide({ requestId: request.id, person: alice, action: "approve", via: "web" });
  assert.ok(decided.ok, JSON.stringify(decided));
}

/** Runs `work` while alice denies every request opened on `resource` meanwhile; returns its result and the requests denied. */
async function denying<T>(resource: Resource, work: () => Promise<T>): Promise<{ result: T; denied: AccessRequest[] }> {
  const denied: AccessRequest[] = [];
  const earlier = new Set((await env().harness.approvals.list("pending", 100, { resource })).map((r) => r.id));
  // One look at a time, each after the last: a request is denied once.
  let done = false;
  const denyNew = async () => {
    for (const request of await env().harness.approvals.list("pending", 100, { resource })) {
      if (earlier.has(request.id)) continue;
      earlier.add(request.id);
      await env().harness.approvals.decide({ requestId: request.id, person: alice, action: "deny", reason: "evasion test", via: "web" });
      denied.push(request);
    }
  };
  const looking = (async () => {
    while (!done) {
      await new Promise((r) => setTimeout(r, 20));
      if (!done) await denyNew();
    }
  })();
  try {
    return { result: await work(), denied };
  } finally {
    done = true;
    await looking;
  }
}

/** The request shows the text the server holds under the name, and never the decoy. */
function assertShows(request: AccessRequest, real: string, decoy: string): void {
  const texts = request.statements.map((s) => s.text);
  assert.ok(texts.includes(real), `SECURITY: the request does not show what will run (${real}): ${JSON.stringify(texts)}`);
  assert.ok(!texts.some((t) => t.includes(decoy)), `SECURITY: the request shows a text that will not run (${decoy}): ${JSON.stringify(texts)}`);
}

/** The statements recorded under a request, once the recorder has written them. */
async function recorded(requestId: string): Promise<Array<{ text: string; rows: number; outcome: string }>> {
  const { harness } = env();
  await harness.recorder.flush();
  return harness.store.sql.all<{ text: string; rows: number; outcome: string }>("select text, rows, outcome from statements where request_id = ? order by id", [requestId]);
}

function requestIdOf(groups: Answer[][]): string {
  const message = groups.flat().find((a) => a.code === "42501")?.message ?? "";
  const id = /request (r_[0-9a-f]+)/.exec(message)?.[1];
  assert.ok(id, `no request id in the refusal: ${message}`);
  return id;
}

const countRefunds = (resource: Resource) => count(env(), resource, "SELECT count(*)::int AS n FROM refunds");
const countCancelled = (resource: Resource) => count(env(), resource, "SELECT count(*)::int AS n FROM orders WHERE status = 'cancelled'");
const countOrders = (resource: Resource) => count(env(), resource, "SELECT count(*)::int AS n FROM orders");

/** Names made one way and used the other, over customers' masked columns: PostgreSQL's answers, 1,000 rows each. */
/** Issue 13's disguise: a protocol name re-made by SQL for masked columns under expressions. */
const disguised = (x: string) => [
  parse(x, "SELECT 1"),
  SYNC,
  query(`DEALLOCATE ${x}`),
  query(`PREPARE ${x} AS SELECT replace(ssn,'-','.'), replace(email,'@',' at ') FROM customers`),
  bind("", x),
  execute(""),
  SYNC,
];
const DISGUISED_ANSWERS = [["1", "Z"], ["C:DEALLOCATE", "Z"], ["C:PREPARE", "Z"], ["2", "D", "C:SELECT 1000", "Z"]];

/** Names made one way and used the other, over customers' masked columns: PostgreSQL's answers, 1,000 rows each. */
const MASKED: Array<{ name: string; messages: Buffer[]; expect: string[][]; stepwise?: boolean }> = [
  { name: "protocol Parse x, SQL DEALLOCATE x, SQL PREPARE x of masked columns in disguise, Bind x", messages: disguised("x"), expect: DISGUISED_ANSWERS },
  { name: "the same, one Sync group at a time", messages: disguised("x2"), expect: DISGUISED_ANSWERS, stepwise: true },
  {
    name: "SQL EXECUTE of a protocol name is masked as its Parse text",
    messages: [parse("pm", "SELECT ssn, email FROM customers"), SYNC, query("EXECUTE pm")],
    expect: [["1", "Z"], ["T", "D", "C:SELECT 1000", "Z"]],
  },
  {
    name: "protocol Bind of a SQL-PREPAREd name is masked as its PREPARE body",
    messages: [query("PREPARE sm AS SELECT ssn, email FROM customers"), bind("", "sm"), execute(""), SYNC],
    expect: [["C:PREPARE", "Z"], ["2", "D", "C:SELECT 1000", "Z"]],
  },
  {
    name: "protocol Execute of a SQL cursor is masked as its DECLARE",
    messages: [query("BEGIN"), query("DECLARE cm CURSOR FOR SELECT ssn, email FROM customers"), execute("cm"), SYNC, query("COMMIT")],
    expect: [["C:BEGIN", "Z"], ["C:DECLARE CURSOR", "Z"], ["D", "C:SELECT 1000", "Z"], ["C:COMMIT", "Z"]],
  },
  {
    name: "SQL FETCH from a protocol-bound portal is masked as its Parse text",
    messages: [query("BEGIN"), parse("fm", "SELECT ssn, email FROM customers"), bind("pf", "fm"), SYNC, query("FETCH ALL FROM pf"), query("COMMIT")],
    expect: [["C:BEGIN", "Z"], ["1", "2", "Z"], ["T", "D", "C:FETCH 1000", "Z"], ["C:COMMIT", "Z"]],
  },
];

/** Sends the messages in one write, or each Sync/Query group after the previous group's answers. */
async function sendAll(session: WireSession, messages: Buffer[], stepwise: boolean): Promise<Answer[][]> {
  if (!stepwise) return session.send(messages);
  const groups: Answer[][] = [];
  let start = 0;
  for (const [i, m] of messages.entries()) {
    if (!endsGroup(m)) continue;
    groups.push(...(await session.send(messages.slice(start, i + 1))));
    start = i + 1;
  }
  return groups;
}

for (const resource of RESOURCES) {
  describe(`what is approved is what runs, on ${resource}`, () => {
    test("re-Parse across Sync groups fails (42P05): the request shows, approval runs and the record keeps the text PostgreSQL holds", async () => {
      const [real, decoy] = ["DELETE FROM refunds", "DELETE FROM refunds WHERE id = 1"];
      const before = await countRefunds(resource);
      const session = await WireSession.open(env(), resource);
      try {
        session.raw.socket.write(Buffer.concat([parse("s1", real), SYNC, parse("s1", decoy), SYNC, bind("", "s1"), execute(""), SYNC]));
        const request = await pendingRequest(env().harness.approvals, real, resource);
        assertShows(request, real, decoy);
        assert.equal(await countRefunds(resource), before, "SECURITY: it ran before approval");
        await approve(request);
        const { groups, held } = split(await session.read(3));
        assertAnswers(groups, [["1", "Z"], ["E:42P05", "Z"], ["2", `C:DELETE ${before}`, "Z"]]);
        assert.equal(held.length, 1, "one hold notice");
        assert.equal(await countRefunds(resource), 0, "what ran is what the request showed");
        const records = await recorded(request.id);
        assert.ok(records.every((r) => r.text === real), `SECURITY: recorded another text: ${JSON.stringify(records)}`);
        assert.deepEqual(records.filter((r) => r.outcome === "ok"), [{ text: real, rows: before, outcome: "ok" }]);
      } finally {
        session.close();
      }
    });

    test("return mode: the re-Parse's request shows the real text; approval runs it once; another body under the name is not covered", async () => {
      const [real, decoy] = ["UPDATE orders SET status = 'cancelled'", "UPDATE orders SET status = 'cancelled' WHERE id = 2"];
      const before = await countCancelled(resource);
      const session = await WireSession.open(env(), resource, "evasion-names airlock-mode=return");
      try {
        const refused = await session.send([parse("r1", real), SYNC, parse("r1", decoy), SYNC, bind("", "r1"), execute(""), SYNC]);
        assertAnswers(refused, [["1", "Z"], ["E:42P05", "Z"], ["2?", REFUSED, "Z"]]);
        const request = await env().harness.approvals.get(requestIdOf(refused));
        assert.ok(request);
        assertShows(request, real, decoy);
        assert.equal(await countCancelled(resource), before, "SECURITY: it ran before approval");
        await approve(request);
        assertAnswers(await session.send([bind("", "r1"), execute(""), SYNC]), [["2", `C:UPDATE ${shop.orders.length}`, "Z"]]);
        assert.equal(await countCancelled(resource), shop.orders.length, "what ran is what the request showed");
        assertAnswers(await session.send([bind("", "r1"), execute(""), SYNC]), [["2?", REFUSED, "Z"]], "approved once runs once");
        const other = [writeClose("statement", "r1"), parse("r1", decoy), bind("", "r1"), execute(""), SYNC];
        assertAnswers(await session.send(other), [["3", "1", "2?", REFUSED, "Z"]], "another body under the same name");
        const records = await recorded(request.id);
        assert.ok(records.every((r) => r.text === real), `SECURITY: recorded another text: ${JSON.stringify(records)}`);
        assert.deepEqual(records.filter((r) => r.outcome === "ok"), [{ text: real, rows: shop.orders.length, outcome: "ok" }]);
      } finally {
        session.close();
      }
    });

    test("SQL PREPARE of a delete, approved once: ten protocol Binds, an EXECUTE and a failed re-Parse under its name each wait for people", async () => {
      const body = "DELETE FROM orders WHERE id=$1";
      const session = await WireSession.open(env(), resource);
      try {
        const prepared = session.send([query(`PREPARE w1 AS ${body}`)]);
        prepared.catch(() => undefined); // awaited below; if no request opens, the test fails there instead
        await approve(await pendingRequest(env().harness.approvals, `PREPARE w1 AS ${body}`, resource));
        assertAnswers(split(await prepared).groups, [["C:PREPARE", "Z"]]);
        const before = await countOrders(resource);

        const binds = await denying(resource, () => session.send(LONE_ORDERS.flatMap((id) => [bindText("", "w1", [String(id)]), execute(""), SYNC])));
        assertAnswers(split(binds.result).groups, LONE_ORDERS.map(() => ["2?", REFUSED, "Z"]));
        const executed = await denying(resource, () => session.send([query(`EXECUTE w1(${LONE_ORDERS[0]})`)]));
        assertAnswers(split(executed.result).groups, [[REFUSED, "Z"]], "approving the PREPARE once is not approving its EXECUTE");
        const reparsed = await denying(resource, () => session.send([parse("w1", "SELECT $1::int"), SYNC, bindText("", "w1", [String(LONE_ORDERS[1])]), execute(""), SYNC]));
        assertAnswers(split(reparsed.result).groups, [["E:42P05", "Z"], ["2?", REFUSED, "Z"]]);
        assert.equal(await countOrders(resource), before, "SECURITY: a delete ran unreviewed");

        // Held rather than refused is fine, but then the request shows the delete, never the decoy.
        for (const request of [...binds.denied, ...executed.denied, ...reparsed.denied]) {
          const texts = request.statements.map((s) => s.text);
          assert.ok(texts.some((t) => t.includes(body)) && !texts.includes("SELECT $1::int"), `SECURITY: the request does not show the delete: ${JSON.stringify(texts)}`);
        }
      } finally {
        session.close();
      }
    });

    for (const { name, messages, expect, stepwise = false } of MASKED) {
      test(`masked as what runs: ${name}`, async () => {
        const session = await WireSession.open(env(), resource);
        try {
          assertAnswers(await sendAll(session, messages, stepwise), expect);
          const bytes = session.bytes().toString("utf8");
          const leaked = SECRETS.filter((s) => bytes.includes(s));
          assert.deepEqual(leaked.slice(0, 5), [], `SECURITY: ${leaked.length} SSNs or emails left in clear`);
        } finally {
          session.close();
        }
      });
    }
  });
}
