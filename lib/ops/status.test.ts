import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import { after, test } from "node:test";
import { openTestStore } from "../../test/support/store";
import { AuditLog } from "../audit/log";
import type { AirlockConfig } from "../config";
import { parsePolicy, type Resource } from "../policy/policy-file";
import type { PolicyStatus } from "../policy/source";
import { REACH_TIMEOUT_MS } from "./checks";
import { gatherStatus, type StatusSources } from "./status";

const { store, dataDir, close } = await openTestStore();
after(close);

const POLICY = `
resources:
  demo: { type: postgres, url: "pglite://demo" }
  up: { type: postgres, url: "postgres://airlock:s3cret@db.internal:5432/up" }
  down: { type: postgres, url: "postgres://airlock@db.internal:5432/down" }
  silent: { type: postgres, url: "postgres://airlock@db.internal:5432/silent" }
rules:
  - name: everyone-reads
    match: { kinds: [select] }
    action: allow
`;
const SLACK_HTTP: AirlockConfig["slack"] = { botToken: "xoxb-1", signingSecret: "s", channel: "#db-approvals", appToken: undefined, apiUrl: undefined, userGroups: {} };
const JOURNAL = JSON.parse(fs.readFileSync("drizzle/meta/_journal.json", "utf8")) as { entries: Array<{ tag: string }> };

/** Logs in to `up`, is refused by `down`, never answers for `silent`; counts every attempt. */
function fakeReach() {
  const calls: string[] = [];
  const reach = (resource: Resource) => {
    calls.push(resource.name);
    if (resource.name === "up") return Promise.resolve();
    if (resource.name === "down") return Promise.reject(new Error("connect ECONNREFUSED 10.0.0.9:5432"));
    return new Promise<void>(() => undefined);
  };
  return { reach, calls };
}

function sources(overrides: Partial<StatusSources> = {}): StatusSources {
  const current = parsePolicy(POLICY, {}, "/etc/airlock/airlock.policy.yaml");
  const status: PolicyStatus = { file: "/etc/airlock/airlock.policy.yaml", loadedAt: new Date(Date.UTC(2026, 0, 1)), hash: "ab".repeat(32), text: POLICY };
  return {
    store,
    dataDir,
    policy: { status, current },
    catalog: (r) => (r.name === "up" ? { state: "loaded", loadedAt: new Date(Date.UTC(2026, 0, 1)), stale: false } : { state: "not-loaded" }),
    reach: fakeReach().reach,
    slack: SLACK_HTTP,
    currentInstanceId: "i_here",
    migrationsFolder: "drizzle",
    ...overrides,
  };
}

test("resources: an embedded one is never checked, the others are, within a bound, and the answer is kept", { timeout: 20_000 }, async () => {
  const { reach, calls } = fakeReach();
  const first = await gatherStatus(sources({ reach }));
  const byName = Object.fromEntries(first.resources.map((r) => [r.name, r]));
  assert.deepEqual(byName.demo.reach, { state: "embedded" });
  assert.equal(byName.up.reach.state, "reachable");
  assert.deepEqual(byName.down.reach.state === "unreachable" && byName.down.reach.error, "connect ECONNREFUSED 10.0.0.9:5432");
  assert.deepEqual(byName.silent.reach.state === "unreachable" && byName.silent.reach.error, `no answer within ${REACH_TIMEOUT_MS / 1000} s`);
  assert.equal(byName.up.url, "postgres://airlock:***@db.internal:5432/up", "no password on the page");
  assert.equal(byName.up.catalog.state, "loaded");
  assert.equal(byName.demo.catalog.state, "not-loaded");
  assert.deepEqual(calls.sort(), ["down", "silent", "up"]);

  const started = Date.now();
  await gatherStatus(sources({ reach }));
  assert.equal(calls.length, 3, "a second view within the cache time logs in nowhere");
  assert.ok(Date.now() - started < REACH_TIMEOUT_MS, "and does not wait for the silent one again");
});

test("the store: its kind, that it answers, and every migration in the journal applied", async () => {
  const status = await gatherStatus(sources());
  assert.equal(status.store.kind, "sqlite");
  assert.match(status.store.location, /airlock\.db$/);
  assert.equal(status.store.answering.ok, true);
  assert.ok(status.store.migrations.ok);
  assert.equal(status.store.migrations.value.applied, JOURNAL.entries.length);
  assert.equal(status.store.migrations.value.expected, JOURNAL.entries.length);
  assert.equal(status.store.migrations.value.latest, JOURNAL.entries.at(-1)?.tag);
  assert.deepEqual(status.store.migrations.value.pending, []);
});

test("Slack: the mode from the settings, and the messages given up on in the last day, newest first", async () => {
  const { slackMessages } = store.tables;
  const now = new Date();
  await store.db.insert(slackMessages).values([
    { requestId: "r_old", channel: "C1", state: "failed", error: "post failed: channel_not_found", updatedAt: new Date(now.getTime() - 2 * 24 * 3600_000) },
    { requestId: "r_new", channel: "C1", state: "failed", error: "post failed: not_in_channel", updatedAt: new Date(now.getTime() - 60_000) },
    { requestId: "r_retry", channel: "C1", state: "sending", error: "post failed: ratelimited", updatedAt: now },
    { requestId: "r_ok", channel: "C1", state: "sent", ts: "1.2", updatedAt: now },
  ]);
  const { slack } = await gatherStatus(sources({ now }));
  assert.equal(slack.mode, "http");
  assert.equal(slack.channel, "#db-approvals");
  assert.ok(slack.failures.ok);
  assert.equal(slack.failures.value.lastDay, 1);
  assert.equal(slack.failures.value.retrying, 1);
  assert.deepEqual(
    slack.failures.value.recent.map((f) => [f.requestId, f.error]),
    [["r_new", "post failed: not_in_channel"]],
  );
  assert.equal((await gatherStatus(sources({ slack: { ...SLACK_HTTP, appToken: "xapp-1" } }))).slack.mode, "socket");
  assert.equal((await gatherStatus(sources({ slack: { ...SLACK_HTTP, botToken: undefined } }))).slack.mode, "off");
});

test("instances on the store: this one first, then the running, then those gone; with their sessions", async () => {
  const now = new Date();
  const session = { id: "s1", agentId: "ops-agent", groups: [], resource: "demo", startedAt: now.toISOString(), statementCount: 0 };
  await store.db.insert(store.tables.instances).values([
    { id: "i_gone", name: "b-gone", host: "elsewhere", pid: 7, startedAt: now, seenAt: new Date(now.getTime() - 30_000), sessions: "[]" },
    { id: "i_other", name: "a-other", host: "elsewhere", pid: 8, startedAt: now, seenAt: now, sessions: JSON.stringify([session, { ...session, id: "s2" }]) },
    { id: "i_here", name: "z-here", host: os.hostname(), pid: process.pid, startedAt: now, seenAt: now, sessions: JSON.stringify([session]) },
  ]);
  const { instances } = await gatherStatus(sources({ now }));
  assert.ok(instances.ok);
  assert.deepEqual(
    instances.value.map((i) => [i.name, i.current, i.alive, i.sessions]),
    [
      ["z-here", true, true, 1],
      ["a-other", false, true, 2],
      ["b-gone", false, false, 0],
    ],
  );
});

test("the policy in force and the audit chain's verdict", async () => {
  // A store of its own: the verdict on the one above was kept by the views before (lib/audit/chain-status.ts).
  const own = await openTestStore();
  after(own.close);
  await new AuditLog(own.store).append([{ at: new Date(), type: "statement", sql: "select 1" }, { at: new Date(), type: "statement", sql: "select 2" }]);
  const error = { message: "airlock.policy.yaml:3: rules.0.action: must be allow, deny or review", at: new Date() };
  const base = sources({ store: own.store, dataDir: own.dataDir });
  const status = await gatherStatus({ ...base, policy: { ...base.policy, status: { ...base.policy.status, error } } });
  assert.deepEqual(status.policy, { file: "/etc/airlock/airlock.policy.yaml", loadedAt: new Date(Date.UTC(2026, 0, 1)), hash: "ab".repeat(32), rules: 1, resources: 4, error });
  assert.ok(status.chain.ok);
  assert.ok(status.chain.value.verdict.ok);
  assert.equal(status.chain.value.verdict.rows, 2);
});
