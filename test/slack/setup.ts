import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { startAirlock, type RunningAirlock } from "../support/airlock-server";
import { STAND_IN_SIGNING_SECRET } from "../support/slack-interactions";
import { STAND_IN_BOT_TOKEN, type SlackStandIn } from "../support/slack-stand-in";

export const POLICY = `resources:
  demo: { type: postgres, url: "pglite://demo" }
rules:
  - name: agents-read
    match: { groups: [agents], kinds: [select] }
    action: allow
  - name: agents-write
    match: { groups: [agents], kinds: [insert, update, delete] }
    action: review
    review: { approvers: [db-approvers], count: 1, timeout: 10m, grants: [once, 15m, 1h] }
    access: { max: 1h }
  - name: schema-changes
    match: { groups: [agents], kinds: [ddl] }
    action: review
    review: { approvers: [db-approvers], count: 2, slack_channel: "#schema-reviews" }
`;

/** Airlock as users start it, with Slack pointed at the stand-in and a policy (by default the one above). */
export async function startAirlockWithSlack(slack: SlackStandIn, dataDir: string, options: { policy?: string; env?: Record<string, string> } = {}): Promise<RunningAirlock> {
  const policy = path.join(dataDir, "airlock.policy.yaml");
  fs.mkdirSync(dataDir, { recursive: true });
  fs.writeFileSync(policy, options.policy ?? POLICY);
  return startAirlock({
    dataDir,
    env: {
      AIRLOCK_POLICY: policy,
      SLACK_BOT_TOKEN: STAND_IN_BOT_TOKEN,
      SLACK_SIGNING_SECRET: STAND_IN_SIGNING_SECRET,
      SLACK_CHANNEL: "#db-approvals",
      SLACK_API_URL: slack.apiUrl,
      ...options.env,
    },
  });
}

/**
 * `count` instances as users run them on one store (AIRLOCK_STORE_URL), each with its own data dir
 * under `dir`, all on one Slack (the stand-in: one channel, one signing secret). Agents use the
 * first instance's development IdP everywhere, as they would one external issuer.
 */
export async function startSlackInstances(slack: SlackStandIn, dir: string, options: { count: number; storeUrl: string; policy: string }): Promise<RunningAirlock[]> {
  const on = (n: number, env: Record<string, string> = {}) =>
    startAirlockWithSlack(slack, path.join(dir, `instance-${n}`), { policy: options.policy, env: { AIRLOCK_STORE_URL: options.storeUrl, AIRLOCK_INSTANCE_NAME: `instance-${n}`, ...env } });
  const first = await on(1);
  const issuer = { AGENT_OIDC_ISSUER: `${first.url}/oidc`, AGENT_CLIENT_IDS: "reporting-agent,ops-agent" };
  // The others start side by side: they migrate the store one after another, under its lock.
  const others = await Promise.allSettled(Array.from({ length: options.count - 1 }, (_, i) => on(i + 2, issuer)));
  const started = [first, ...others.flatMap((o) => (o.status === "fulfilled" ? [o.value] : []))];
  const failed = others.find((o) => o.status === "rejected");
  if (failed) {
    await Promise.all(started.map((s) => s.stop()));
    throw failed.reason;
  }
  return started;
}

export { connectAgent } from "../support/server-agent";

/** The server's store, read-only, to check what a click did or did not change. */
export function readStore(airlock: RunningAirlock) {
  const db = new Database(path.join(airlock.dataDir, "airlock.db"), { readonly: true });
  return {
    request: (text: string) => db.prepare("select id, status, outcome_reason as reason from access_requests where statements like ?").get(`%${text}%`) as { id: string; status: string; reason: string | null } | undefined,
    decisions: (requestId: string) => db.prepare("select person_email as person, decision, via from request_decisions where request_id = ? order by id").all(requestId) as Array<{ person: string; decision: string; via: string }>,
    close: () => db.close(),
  };
}
