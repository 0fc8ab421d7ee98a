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
