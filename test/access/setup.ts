import { readIdpSecrets } from "../../idp/secrets";
import { requestClientCredentialsToken } from "../../lib/identity/client-credentials";
import type { RunningAirlock } from "../support/airlock-server";
import type { SlackStandIn } from "../support/slack-stand-in";
import { startAirlockWithSlack } from "../slack/setup";

/** Writes may be asked for up front (reason required, at most 4 h); ops-agent's deletes expire undecided in 1 s. */
export const POLICY = `resources:
  demo: { type: postgres, url: "pglite://demo" }
rules:
  - name: ops-deletes
    match: { agents: [ops-agent], kinds: [delete] }
    action: review
    review: { approvers: [db-approvers], timeout: 1s }
    access: { max: 1h, timeout: 1s }
  - name: agents-read
    match: { groups: [agents], kinds: [select, copy_out] }
    action: allow
    mask: { columns: ["customers.email"], detect: [email] }
  - name: agents-write
    match: { groups: [agents], kinds: [insert, update, delete, merge, copy_in] }
    action: review
    review: { approvers: [db-approvers], count: 1, timeout: 10m, grants: [once, 15m, 1h] }
    access: { max: 4h, reason: required }
`;

/** At most this many long-polls per agent in these tests (AIRLOCK_MAX_WAITS_PER_AGENT). */
export const WAITS_PER_AGENT = 2;

/** Airlock as users start it, with Slack pointed at the stand-in and the policy above. */
export function startAccessAirlock(slack: SlackStandIn, dataDir: string): Promise<RunningAirlock> {
  return startAirlockWithSlack(slack, dataDir, { policy: POLICY, env: { AIRLOCK_MAX_WAITS_PER_AGENT: String(WAITS_PER_AGENT) } });
}

/** A real token for a seeded agent from the server's development IdP (client credentials). */
export async function agentToken(airlock: RunningAirlock, agent = "reporting-agent"): Promise<string> {
  const secret = readIdpSecrets(airlock.dataDir)!.agentSecrets[agent];
  return requestClientCredentialsToken(`${airlock.url}/oidc`, agent, secret);
}

export interface ApiAnswer<T = Record<string, unknown>> {
  status: number;
  body: T;
  ms: number;
}

/** Calls the agent API as `token` would. */
export async function api<T = Record<string, unknown>>(airlock: RunningAirlock, token: string | undefined, method: string, path: string, body?: unknown): Promise<ApiAnswer<T>> {
  const started = performance.now();
  const res = await fetch(`${airlock.url}${path}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as T, ms: performance.now() - started };
}
