import fs from "node:fs";
import path from "node:path";
import pg from "pg";
import { startAirlock } from "../test/support/airlock-server";
import { startPostgres } from "../test/support/postgres";
import { STAND_IN_SIGNING_SECRET } from "../test/support/slack-interactions";
import { startSlackStandIn, STAND_IN_BOT_TOKEN } from "../test/support/slack-stand-in";
import { makeTempDir } from "../test/support/temp-dir";

/**
 * One Airlock for the browser suite, with its own copy of the shipped policy (tests edit it) and,
 * beside the embedded demo, a real PostgreSQL resource `pg`; tests read URLs and files from the
 * environment. Slack is on, pointed at a stand-in for its Web API (AIRLOCK_E2E_SLACK_URL).
 */
/**
 * Last, so the shipped rules keep their places (tests name them by index): ops-agent's maintenance
 * (ANALYZE), which no shipped rule takes, waits with reminders every 2 s and escalates after 3 s;
 * reporting-agent's counts only decisions from a sign-in at most 20 s old (step-up).
 */
const FOLLOW_UP_RULE = `
  - name: e2e-follow-ups
    match: { agents: [ops-agent], kinds: [maintenance] }
    action: review
    review: { approvers: [db-approvers], timeout: 1m, remind: 2s, escalate: { after: 3s, to: [sre-leads], channel: "#sre" } }
  - name: e2e-step-up
    match: { agents: [reporting-agent], kinds: [maintenance] }
    action: review
    review: { approvers: [db-approvers], timeout: 2m, step_up: 20s }
`;

export default async function globalSetup() {
  const dir = makeTempDir("e2e");
  const postgres = await startPostgres();
  const admin = new pg.Client({ connectionString: postgres.url });
  await admin.connect();
  await admin.query("create table accounts (id int primary key, owner text, balance int); insert into accounts select g, 'owner ' || g, 100 from generate_series(1, 50) g");
  await admin.end();

  const policy = path.join(dir.path, "airlock.policy.yaml");
  const shipped = fs.readFileSync("airlock.policy.yaml", "utf8");
  fs.writeFileSync(policy, shipped.replace(/^( {2}demo: .*)$/m, `$1\n  pg: { type: postgres, url: "\${E2E_PG_URL}" }`) + FOLLOW_UP_RULE);
  const slack = await startSlackStandIn();
  const slackEnv = { SLACK_BOT_TOKEN: STAND_IN_BOT_TOKEN, SLACK_SIGNING_SECRET: STAND_IN_SIGNING_SECRET, SLACK_CHANNEL: "#db-approvals", SLACK_API_URL: slack.apiUrl };
  const server = await startAirlock({ dataDir: dir.path, env: { AIRLOCK_POLICY: policy, E2E_PG_URL: postgres.url, ...slackEnv } });
  process.env.AIRLOCK_E2E_URL = server.url;
  process.env.AIRLOCK_E2E_DATA_DIR = server.dataDir;
  process.env.AIRLOCK_E2E_POLICY = policy;
  process.env.AIRLOCK_E2E_PG_URL = postgres.url;
  process.env.AIRLOCK_E2E_SLACK_URL = slack.url;
  return async () => {
    await server.stop();
    await slack.close();
    await postgres.stop();
    dir.remove();
  };
}
