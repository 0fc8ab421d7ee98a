import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import Database from "better-sqlite3";
import pg from "pg";
import type { GrantView, RequestView } from "../../lib/access/view";
import type { RunningAirlock } from "../support/airlock-server";
import { buttonClick, buttonIn, denySubmission, postInteraction } from "../support/slack-interactions";
import { about, SLACK_USERS, startSlackStandIn, succeeded, type SlackStandIn } from "../support/slack-stand-in";
import { makeTempDir } from "../support/temp-dir";
import { agentToken, api, startAccessAirlock, WAITS_PER_AGENT } from "./setup";

const dir = makeTempDir("access");
let slack: SlackStandIn;
let airlock: RunningAirlock;
let token: string;
let opsToken: string;

before(async () => {
  slack = await startSlackStandIn();
  airlock = await startAccessAirlock(slack, dir.path);
  [token, opsToken] = await Promise.all([agentToken(airlock), agentToken(airlock, "ops-agent")]);
});
after(async () => {
  await airlock?.stop();
  await slack?.close();
  dir.remove();
});

const ask = (body: object, as = token) => api<RequestView>(airlock, as, "POST", "/api/v1/access-requests", body);
const poll = (id: string, wait: number, as = token) => api<RequestView>(airlock, as, "GET", `/api/v1/access-requests/${id}?wait=${wait}`);

/** Presses `label` on the request's Slack message as `user`. */
async function click(requestId: string, label: string, user: { id: string } = SLACK_USERS.alice) {
  const posted = await slack.waitFor("chat.postMessage", succeeded(requestId));
  assert.equal((await postInteraction(airlock.url, buttonClick(posted, user.id, buttonIn(posted, label)))).status, 200);
  return posted;
}

/** The agent on the DSN it was given, its token as the password, in return mode (a held statement is refused at once). */
async function connect(dsn: string) {
  const url = new URL(dsn);
  assert.equal(url.password, "", "no secret in the DSN");
  const client = new pg.Client({ host: url.hostname, port: Number(url.port), user: decodeURIComponent(url.username), database: url.pathname.slice(1), password: token, application_name: "access-test airlock-mode=return" });
  const notices: string[] = [];
  client.on("notice", (n) => notices.push(n.message ?? ""));
  await client.connect();
  return { client, notices };
}

describe("asking for access over HTTP", () => {
  test("write for 15 minutes: in Slack with duration and reason; alice approves 10; the long-poll says connect at once; writes run without review", async (t) => {
    const asked = await ask({ resource: "demo", access: "write", duration: "15m", reason: "refund backlog, ticket 4711" });
    assert.equal(asked.status, 201);
    assert.deepEqual([asked.body.status, asked.body.next, asked.body.duration, asked.body.kind], ["pending", "wait", "15m", "access"]);
    assert.equal(asked.body.url, `${airlock.url}/requests/${asked.body.id}`);
    assert.deepEqual(asked.body.access.tables, ["*"]);

    const posted = await slack.waitFor("chat.postMessage", succeeded(asked.body.id));
    const blocks = JSON.stringify(posted.args.blocks);
    for (const expected of ["asks for *write access to demo for 15 min*", "*Duration*\\n15 min", "*Reason*\\nrefund backlog, ticket 4711", "*Scope*\\nread/session/copy out/insert/update/delete/merge/copy in every table"]) assert.ok(blocks.includes(expected), `${expected} in ${blocks}`);

    const waiting = poll(asked.body.id, 25).then((answer) => ({ ...answer, at: performance.now() }));
    await new Promise((r) => setTimeout(r, 300)); // the poll is waiting by now
    const clicked = performance.now();
    await click(asked.body.id, "Approve for 10 min");
    const answer = await waiting;
    const latency = answer.at - clicked;
    t.diagnostic(`Slack click → long-poll answer: ${latency.toFixed(0)} ms`);
    assert.ok(latency < 1000, `${latency} ms`);
    assert.deepEqual([answer.status, answer.body.status, answer.body.next], [200, "approved", "connect"]);
    const grant = answer.body.grant!;
    const length = Date.parse(grant.expires_at) - Date.parse(answer.body.decided_at!);
    assert.ok(Math.abs(length - 10 * 60_000) < 1000, `the grant runs 10 minutes from approval (${length} ms)`);
    assert.deepEqual([grant.status, grant.approved_by], ["active", ["alice@example.com"]]);
    assert.match(answer.body.dsn!, /^postgres:\/\/reporting-agent@127\.0\.0\.1:\d+\/demo$/);

    const { client, notices } = await connect(answer.body.dsn!);
    try {
      assert.equal((await client.query("update orders set status = 'cancelled' where id = 11")).rowCount, 1);
      assert.equal((await client.query("insert into refunds (order_id, amount_cents, reason) select 11, 100, 'api' returning id")).rowCount, 1);
      assert.deepEqual(notices, [], "nothing held");
    } finally {
      await client.end();
    }
    const grants = await api<{ grants: GrantView[] }>(airlock, token, "GET", "/api/v1/grants");
    assert.ok(grants.body.grants.some((g) => g.id === grant.id));
    const others = await api<{ grants: GrantView[] }>(airlock, opsToken, "GET", "/api/v1/grants");
    assert.ok(!others.body.grants.some((g) => g.id === grant.id), "another agent does not see it");
    assert.equal((await api(airlock, token, "DELETE", `/api/v1/grants/${grant.id}`)).status, 200, "given back, so later tests start without it");

    // The audit trail says what was asked, for how long and why, and who allowed how much.
    const db = new Database(path.join(airlock.dataDir, "airlock.db"), { readonly: true });
    try {
      const rows = db.prepare("select type, person, data from audit_log where request_id = ? order by id").all(asked.body.id) as Array<{ type: string; person: string | null; data: string }>;
      const opened = JSON.parse(rows.find((r) => r.type === "request.opened")!.data);
      assert.deepEqual(opened.access, { durationMs: 15 * 60_000, reason: "refund backlog, ticket 4711" });
      const decision = rows.find((r) => r.type === "request.decision")!;
      assert.deepEqual([decision.person, JSON.parse(decision.data).grantMs], ["alice@example.com", 10 * 60_000]);
    } finally {
      db.close();
    }
  });

  test("a short grant: writes run until it expires, the session is told, then they are held again", async () => {
    const asked = await ask({ resource: "demo", kinds: ["update"], tables: ["orders"], duration: "3s", reason: "short" });
    assert.equal(asked.status, 201);
    await click(asked.body.id, "Approve for 3 s");
    const answer = await poll(asked.body.id, 10);
    assert.equal(answer.body.next, "connect");
    const { client, notices } = await connect(answer.body.dsn!);
    try {
      assert.equal((await client.query("update orders set status = 'paid' where id = 12")).rowCount, 1);
      await assert.rejects(client.query("delete from orders where id = 12"), /approval required/, "only the kinds granted");
      for (let i = 0; i < 100 && notices.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
      assert.match(notices.join("\n"), new RegExp(`grant ${answer.body.grant!.id} \\(update orders on demo\\) has expired`));
      await assert.rejects(client.query("update orders set status = 'shipped' where id = 12"), /approval required/);
    } finally {
      await client.end();
    }
    const after = await poll(asked.body.id, 0);
    assert.deepEqual([after.body.status, after.body.next, after.body.grant!.status], ["approved", "stop", "expired"]);
  });

  test("denied, expired, withdrawn and given back: each with its status, and next: stop", async () => {
    const denied = await ask({ resource: "demo", access: "write", duration: "1h", reason: "denied please" });
    const posted = await click(denied.body.id, "Deny");
    const opened = await slack.waitFor("views.open", about(denied.body.id));
    assert.equal((await postInteraction(airlock.url, denySubmission(opened, SLACK_USERS.alice.id, "use the staging copy"))).status, 200);
    const deniedAnswer = await poll(denied.body.id, 10);
    assert.deepEqual([deniedAnswer.body.status, deniedAnswer.body.next, deniedAnswer.body.denied], ["denied", "stop", { by: "alice@example.com", reason: "use the staging copy" }]);
    assert.ok(posted);

    const expiring = await ask({ resource: "demo", kinds: ["delete"], duration: "10m" }, opsToken);
    assert.equal(expiring.status, 201, JSON.stringify(expiring.body));
    const expired = await poll(expiring.body.id, 10, opsToken);
    assert.deepEqual([expired.body.status, expired.body.next], ["expired", "stop"]);
    assert.ok(expired.ms < 5000, "the poll ends when the request expires");

    const withdrawn = await ask({ resource: "demo", access: "write", duration: "1h", reason: "never mind" });
    const cancelled = await api<RequestView>(airlock, token, "DELETE", `/api/v1/access-requests/${withdrawn.body.id}`);
    assert.deepEqual([cancelled.status, cancelled.body.status, cancelled.body.next, cancelled.body.outcome_reason], [200, "cancelled", "stop", "withdrawn by the agent"]);

    const kept = await ask({ resource: "demo", access: "write", duration: "1h", reason: "give it back" });
    await click(kept.body.id, "Approve for 1 h");
    const granted = await poll(kept.body.id, 10);
    assert.equal(granted.body.next, "connect");
    const returned = await api<GrantView>(airlock, token, "DELETE", `/api/v1/grants/${granted.body.grant!.id}`);
    assert.deepEqual([returned.status, returned.body.status, returned.body.revoked_by], [200, "revoked", "reporting-agent (given back)"]);
    const afterReturn = await poll(kept.body.id, 0);
    assert.deepEqual([afterReturn.body.status, afterReturn.body.next, afterReturn.body.grant!.status], ["approved", "stop", "revoked"]);
  });

  test("fail closed: bad tokens 401; bad input 400; beyond policy 403; someone else's request or grant 404", async () => {
    assert.equal((await api(airlock, undefined, "GET", "/api/v1/grants")).status, 401);
    const forged = await api(airlock, `${token.slice(0, -4)}AAAA`, "GET", "/api/v1/grants");
    assert.deepEqual([forged.status, (forged.body.error as { code: string }).code], [401, "unauthorized"]);

    const problems: Array<[object | string, number, string, RegExp]> = [
      ["{not json", 400, "invalid_request", /not valid JSON/],
      [{ resource: "demo", access: "write" }, 400, "invalid_request", /^duration: /],
      [{ resource: "demo", access: "write", duration: "1h" }, 400, "reason_required", /requires a reason/],
      [{ resource: "demo", access: "write", duration: "5h", reason: "x" }, 403, "duration_too_long", /asked for 5h; rule agents-write allows at most 4h/],
      [{ resource: "demo", kinds: ["truncate"], duration: "1h", reason: "x" }, 403, "not_allowed", /no rule holds truncate on demo for review/],
      [{ resource: "demo", access: "read", duration: "1h" }, 409, "already_allowed", /no request is needed/],
      [{ resource: "nope", access: "write", duration: "1h", reason: "x" }, 404, "not_found", /no resource "nope"/],
    ];
    for (const [body, status, code, message] of problems) {
      const answer = await ask(body as object);
      const error = answer.body as unknown as { error: { code: string; message: string } };
      assert.equal(answer.status, status, JSON.stringify(answer.body));
      assert.equal(error.error.code, code);
      assert.match(error.error.message, message);
    }

    const mine = await ask({ resource: "demo", access: "write", duration: "1h", reason: "mine" });
    assert.equal((await poll(mine.body.id, 0, opsToken)).status, 404, "another agent cannot read it");
    assert.equal((await api(airlock, opsToken, "DELETE", `/api/v1/access-requests/${mine.body.id}`)).status, 404, "nor withdraw it");
    assert.equal((await poll(mine.body.id, 0)).body.status, "pending");
    assert.equal((await poll("r_0000000000", 0)).status, 404);
    const grants = await api<{ grants: GrantView[] }>(airlock, token, "GET", "/api/v1/grants");
    for (const g of grants.body.grants) assert.equal((await api(airlock, opsToken, "DELETE", `/api/v1/grants/${g.id}`)).status, 404, "nor give back its grants");
    assert.equal((await api(airlock, token, "GET", `/api/v1/access-requests/${mine.body.id}?wait=soon`)).status, 400);
  });

  test("long-polls end on time; an agent holds at most the configured number; one given up frees its place", async () => {
    const pending = await ask({ resource: "demo", access: "write", duration: "1h", reason: "waits" });
    const polls = Array.from({ length: WAITS_PER_AGENT }, () => poll(pending.body.id, 2));
    await new Promise((r) => setTimeout(r, 300));
    const refused = await poll(pending.body.id, 2);
    assert.deepEqual([refused.status, (refused.body as unknown as { error: { code: string } }).error.code], [429, "too_many_waits"]);
    assert.equal((await poll(pending.body.id, 0)).status, 200, "an answer without waiting is always given");
    const opsPending = await ask({ resource: "demo", kinds: ["update"], duration: "1h", reason: "other agent" }, opsToken);
    const opsPoll = poll(opsPending.body.id, 1, opsToken);
    for (const answer of await Promise.all(polls)) {
      assert.deepEqual([answer.status, answer.body.next], [200, "wait"]);
      assert.ok(answer.ms >= 1900 && answer.ms < 3500, `ended after ${answer.ms} ms`);
    }
    assert.equal((await opsPoll).status, 200, "other agents are counted apart");

    // Clients that go away mid-wait free their places at once.
    const gone = Array.from({ length: WAITS_PER_AGENT }, () => {
      const controller = new AbortController();
      const request = fetch(`${airlock.url}/api/v1/access-requests/${pending.body.id}?wait=20`, { headers: { authorization: `Bearer ${token}` }, signal: controller.signal }).catch(() => undefined);
      return { controller, request };
    });
    await new Promise((r) => setTimeout(r, 300));
    for (const g of gone) g.controller.abort();
    await Promise.all(gone.map((g) => g.request));
    await new Promise((r) => setTimeout(r, 200));
    const again = await poll(pending.body.id, 1);
    assert.equal(again.status, 200, JSON.stringify(again.body));
  });
});
