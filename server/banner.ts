import { DEV_PASSWORD, SEED_AGENTS, SEED_PEOPLE } from "../idp/seed";
import type { Runtime } from "../lib/runtime";

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
    `  Data dir       ${rt.config.dataDir}`,
    `  Policy         ${rt.config.policyPath}`,
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
