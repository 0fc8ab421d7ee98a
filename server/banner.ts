import { DEV_PASSWORD, SEED_AGENTS, SEED_PEOPLE } from "../idp/seed";
import type { Runtime } from "../lib/runtime";
import { slackMode, SLACK_EVENTS_PATH } from "../lib/slack/settings";

/** What a person needs to start using Airlock, printed once everything is listening. */
export function renderBanner(rt: Runtime, dashboardPort: number): string {
  const lines = [
    "",
    `  Airlock ${rt.version} is running`,
    "",
    `  Dashboard      ${rt.publicUrl}   (port ${dashboardPort})`,
    `  Health         ${rt.publicUrl}/api/health`,
    `  Live updates   ${rt.publicUrl.replace(/^http/, "ws")}/api/live`,
    `  Postgres proxy ${rt.proxy.host}:${rt.proxy.port}`,
    `  Identity       ${rt.sso.issuer}${rt.sso.development ? "   (development IdP)" : ""}`,
    ...(rt.saml ? [`  SAML           ${rt.saml.sp.idp.entityId}${rt.saml.development ? "   (development SAML IdP)" : ""}`] : []),
    `  Data dir       ${rt.config.dataDir}`,
    `  Policy         ${rt.config.policyPath}`,
    `  Slack          ${slackLine(rt)}`,
  ];
  if (rt.sso.development) {
    lines.push(
      "",
      `  People (password "${DEV_PASSWORD}"):`,
      ...SEED_PEOPLE.map((p) => `    ${p.email.padEnd(20)} ${p.groups.join(", ")}`),
      "  Agents (OAuth client credentials; get a token with `npx airlock token <agent>`):",
      ...SEED_AGENTS.map((a) => `    ${a.id.padEnd(20)} ${a.groups.join(", ")}`),
    );
  }
  lines.push("");
  return lines.join("\n");
}

function slackLine(rt: Runtime): string {
  const mode = slackMode(rt.config.slack);
  if (mode === "off") return "off (set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET to approve from Slack)";
  return mode === "socket" ? "on, Socket Mode" : `on, Slack posts to ${rt.publicUrl}${SLACK_EVENTS_PATH}`;
}
