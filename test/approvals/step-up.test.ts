import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import Database from "better-sqlite3";
import type pg from "pg";
import type { RunningAirlock } from "../support/airlock-server";
import { callServerAction } from "../support/server-actions";
import { buttonClick, buttonIn, postInteraction } from "../support/slack-interactions";
import { SLACK_USERS, startSlackStandIn, succeeded, type SlackCall, type SlackStandIn } from "../support/slack-stand-in";
import { makeTempDir } from "../support/temp-dir";
import { signInOverHttp } from "../web/http-session";
import { agentToken, api } from "../access/setup";
import { connectAgent, startAirlockWithSlack } from "../slack/setup";

/** Writes wait for one approver whose sign-in is at most STEP_UP old; short, so "stale" comes fast. */
const STEP_UP_S = 4;
const POLICY = `resources:
  demo: { type: postgres, url: "pglite://demo" }
rules:
  - name: agents-write
    match: { groups: [agents], kinds: [insert, update, delete] }
    action: review
    review: { approvers: [db-approvers], timeout: 5m, step_up: ${STEP_UP_S}s }
    access: { max: 1h }
`;

const dir = makeTempDir("step-up");
let slack: SlackStandIn;
let airlock: RunningAirlock;
let agent: { client: pg.Client; notices: string[] };
let db: Database.Database;

before(async () => {
  slack = await startSlackStandIn();
  airlock = await startAirlockWithSlack(slack, dir.path, { policy: POLICY });
  agent = await connectAgent(airlock);
  db = new Database(path.join(airlock.dataDir, "airlock.db"), { readonly: true });
});
after(async () => {
  db?.close();
  await agent?.client.end().catch(() => undefined);
  await airlock?.stop();
  await slack?.close();
  dir.remove();
});

async function hold(sql: string, marker: string): Promise<{ running: Promise<pg.QueryResult>; posted: SlackCall; id: string }> {
  const running = agent.client.query(sql);
  running.catch(() => undefined);
  const posted = await slack.waitFor("chat.postMessage", succeeded(marker));
  const { id } = db.prepare("select id from access_requests where statements like ?").get(`%${marker}%`) as { id: string };
  return { running, posted, id };
}

const status = (id: string) => (db.prepare("select status from access_requests where id = ?").get(id) as { status: string }).status;
const decisions = (id: string) => db.prepare("select person_email as person, via, auth_at as authAt from request_decisions where request_id = ?").all(id) as Array<{ person: string; via: string; authAt: number | null }>;
const auditRows = (id: string, type: string) =>
  (db.prepare("select person, data from audit_log where request_id = ? and type = ? order by id").all(id, type) as Array<{ person: string; data: string }>).map((r) => ({ person: r.person, data: JSON.parse(r.data) as Record<string, unknown> }));
const decide = (cookie: string, id: string) => callServerAction(airlock, cookie, "decideRequest", `/requests/${id}`, { requestId: id, decision: "approve:once" });

async function until<T>(what: string, read: () => T | undefined | Promise<T | undefined>, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("step-up (review.step_up) with the development IdP and the Slack stand-in", () => {
  test("the session keeps the IdP's auth_time: the development IdP issues it at every sign-in", async () => {
    const before = Math.floor(Date.now() / 1000);
    const cookie = await signInOverHttp(airlock.url, "alice@example.com");
    const session = (await (await fetch(`${airlock.url}/api/auth/session`, { headers: { cookie } })).json()) as { user: { signIn?: { method: string; authTime?: number } } };
    assert.equal(session.user.signIn?.method, "oidc");
    const authTime = session.user.signIn?.authTime;
    assert.ok(typeof authTime === "number" && authTime >= before - 1 && authTime <= Math.ceil(Date.now() / 1000), `auth_time ${authTime} is the sign-in's`);
  });

  test("a Slack click does not decide a step-up request: approve and deny are answered privately with the request's page", async () => {
    const { running, posted, id } = await hold("update orders set status = 'paid' where id = 11 /* step-up-slack */", "step-up-slack");
    for (const label of ["Approve once", "Deny"]) {
      const response = await postInteraction(airlock.url, buttonClick(posted, SLACK_USERS.bob.id, buttonIn(posted, label)));
      assert.equal(response.status, 200, "acknowledged");
    }
    const answers = await until("two answers to bob", async () => {
      const told = (await slack.calls("chat.postEphemeral")).filter((c) => c.args.user === SLACK_USERS.bob.id && c.args.text.startsWith(id));
      return told.length >= 2 ? told : undefined;
    });
    assert.equal(answers.length, 2, JSON.stringify(answers.map((a) => a.args.text)));
    for (const a of answers) {
      assert.match(a.args.text, /within the last 4s \(step-up\): decide it on its page/);
      assert.ok(a.args.text.includes(`<${airlock.url}/requests/${id}>`), `the link in ${a.args.text}`);
    }
    assert.equal((await slack.calls("views.open")).length, 0, "no deny form opens");
    assert.equal(status(id), "pending");
    assert.deepEqual(decisions(id), []);
    const refused = await until("both refused clicks' audit rows", () => {
      const rows = auditRows(id, "request.step_up_refused");
      return rows.length >= 2 ? rows : undefined;
    });
    assert.deepEqual(
      refused.map((r) => ({ person: r.person, via: r.data.via, action: r.data.action, signIn: r.data.signIn })).sort((a, b) => String(a.action).localeCompare(String(b.action))),
      [
        { person: "bob@example.com", via: "slack", action: "approve", signIn: null },
        { person: "bob@example.com", via: "slack", action: "deny", signIn: null },
      ],
    );
    // Decided on the web instead, from a fresh sign-in: it counts, and the statement runs.
    assert.match(await decide(await signInOverHttp(airlock.url, "bob@example.com"), id), /Request approved\./);
    assert.equal((await running).rowCount, 1);
  });

  test("on the web: a sign-in older than step_up is refused (recorded, nothing decided); after signing in again the decision counts and says so", async () => {
    const { running, id } = await hold("update orders set status = 'shipped' where id = 12 /* step-up-web */", "step-up-web");
    const stale = await signInOverHttp(airlock.url, "alice@example.com");
    // The page offers a new sign-in instead of buttons once the sign-in is too old.
    await new Promise((r) => setTimeout(r, (STEP_UP_S + 1.5) * 1000));
    const page = await (await fetch(`${airlock.url}/requests/${id}`, { headers: { cookie: stale } })).text();
    assert.match(page, /Sign in again to decide/);
    assert.doesNotMatch(page, /class="decision-form"/);

    assert.match(await decide(stale, id), /older than this request allows: it counts only decisions from a sign-in within the last 4s \(step-up\); sign in again to decide/);
    assert.equal(status(id), "pending");
    assert.deepEqual(decisions(id), []);
    const refused = await until("the refused decision's audit row", () => auditRows(id, "request.step_up_refused")[0]);
    assert.equal(refused.person, "alice@example.com");
    assert.equal((refused.data.signIn as { method: string }).method, "oidc");

    const signedInAt = Math.floor(Date.now() / 1000);
    const fresh = await signInOverHttp(airlock.url, "alice@example.com");
    assert.match(await decide(fresh, id), /Request approved\./);
    assert.equal((await running).rowCount, 1);
    const [decision] = decisions(id);
    assert.equal(decision.person, "alice@example.com");
    assert.ok(decision.authAt !== null && decision.authAt >= (signedInAt - 1) * 1000, "the sign-in that made it count is kept");
    const audited = await until("the decision's audit row", () => auditRows(id, "request.decision")[0]);
    assert.deepEqual(audited.data.stepUp, { signedInAt: new Date(decision.authAt!).toISOString(), withinMs: STEP_UP_S * 1000 });
    const shown = await (await fetch(`${airlock.url}/requests/${id}`, { headers: { cookie: fresh } })).text();
    assert.match(shown, /step-up: signed in at/);
  });

  test("access asked for up front under the rule asks the same step-up: kept on the request, and a fresh approval records its sign-in", async () => {
    const asked = await api<{ id: string }>(airlock, await agentToken(airlock), "POST", "/api/v1/access-requests", { resource: "demo", access: "write", duration: "15m", reason: "step-up test" });
    assert.equal(asked.status, 201, JSON.stringify(asked.body));
    const { id } = asked.body;
    assert.equal((db.prepare("select step_up_ms as ms from access_requests where id = ?").get(id) as { ms: number }).ms, STEP_UP_S * 1000);
    const fresh = await signInOverHttp(airlock.url, "bob@example.com");
    assert.match(await callServerAction(airlock, fresh, "decideRequest", `/requests/${id}`, { requestId: id, decision: "approve:duration", duration: "15m" }), /Request approved\./);
    assert.notEqual(decisions(id)[0].authAt, null);
  });
});
