import { scopePhrase } from "../approvals/grant-label";
import { accessScope } from "../approvals/grant-scope";
import type { GrantStore } from "../approvals/grants";
import { TooManyPendingError } from "../approvals/pending-cap";
import type { ApprovalService, NewRequest } from "../approvals/service";
import type { AccessRequest } from "../db/schema";
import type { AgentIdentity, AgentTokenVerifier } from "../identity/agent-token";
import { formatDuration } from "../policy/duration";
import type { Policy } from "../policy/policy-file";
import { parseAsk } from "./ask";
import { approvalChoices } from "./durations";
import { accessTerms } from "./rules";
import { grantView, requestView, type GrantView, type RequestView } from "./view";
import { deadline, MAX_WAIT_SECONDS, WaitLimiter } from "./waits";

/** A refusal, as the agent API answers it: `{"error":{"code","message"}}` with this status. */
export interface ApiError {
  ok: false;
  status: 400 | 401 | 403 | 404 | 409 | 429;
  code: string;
  message: string;
}
export type ApiResult<T> = { ok: true; value: T } | ApiError;

export interface AccessServiceOptions {
  approvals: ApprovalService;
  grants: GrantStore;
  policy(): Policy;
  /** The proxy's own token check: an agent is who its token says, on the API as on the wire. */
  verify: AgentTokenVerifier;
  publicUrl: string;
  proxy: { host: string; port: number };
  waitsPerAgent: number;
}

/** The token of an `Authorization: Bearer <token>` header. */
export function bearerToken(authorization: string | null | undefined): string | undefined {
  return /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? "")?.[1];
}

const fail = (status: ApiError["status"], code: string, message: string): ApiError => ({ ok: false, status, code, message });
const NOT_FOUND = fail(404, "not_found", "no such request");

/**
 * What agents do without a database driver: ask for time-boxed access, see where a request
 * stands (waiting for it, bounded), list and give back their grants. Every method takes the
 * verified agent; a request or grant of another agent is answered as if it did not exist.
 */
export class AccessService {
  readonly #waits: WaitLimiter;

  constructor(private readonly options: AccessServiceOptions) {
    this.#waits = new WaitLimiter(options.waitsPerAgent);
  }

  /** The `Authorization: Bearer <token>` header, verified as the proxy verifies a password. */
  async authenticate(authorization: string | null | undefined): Promise<ApiResult<AgentIdentity>> {
    const token = bearerToken(authorization);
    if (!token) return fail(401, "unauthorized", "send the agent's token as Authorization: Bearer <token>");
    try {
      return { ok: true, value: await this.options.verify(token) };
    } catch (err) {
      // TokenError messages are safe to show (no token material); anything else is not.
      const reason = err instanceof Error && err.name === "TokenError" ? err.message : "token could not be verified";
      return fail(401, "unauthorized", `airlock: ${reason}`);
    }
  }

  /** Policy names the resources; an agent may see their names (not where they are). */
  resources(): string[] {
    return [...this.options.policy().resources.keys()];
  }

  async ask(agent: AgentIdentity, body: unknown): Promise<ApiResult<RequestView>> {
    const parsed = parseAsk(body);
    if (!parsed.ok) return fail(400, "invalid_request", parsed.message);
    const { resource, scope, durationMs, reason } = parsed.ask;
    const policy = this.options.policy();
    if (!policy.resources.has(resource)) return fail(404, "not_found", `no resource "${resource}" (see GET /api/v1/resources)`);
    const who = { agentId: agent.agentId, groups: agent.groups, resource };
    const governed = accessTerms(policy, who, scope);
    if (!governed.ok) return fail(governed.code === "already_allowed" ? 409 : 403, governed.code, governed.message);
    const { terms } = governed;
    if (durationMs > terms.maxMs) {
      return fail(403, "duration_too_long", `asked for ${formatDuration(durationMs)}; rule ${terms.rules.join(", ")} allows at most ${formatDuration(terms.maxMs)}`);
    }
    if (terms.reasonRequired && !reason) return fail(400, "reason_required", `rule ${terms.rules.join(", ")} requires a reason: say why you need this access`);
    const pairs = accessScope(scope.kinds, scope.tables);
    const opened = await this.#open({
      kind: "access",
      agentId: agent.agentId,
      groups: [...agent.groups],
      resource,
      sessionId: null,
      statements: [],
      scope: pairs,
      rule: terms.rules.join(", "),
      why: `asks for ${scopePhrase(pairs)} for ${formatDuration(durationMs)}`,
      approverGroups: terms.approvers,
      requiredApprovals: terms.count,
      grantOptions: approvalChoices(durationMs),
      durationMs,
      reason: reason ?? null,
      timeoutMs: terms.timeoutMs,
      followUp: terms.followUp ?? null,
      stepUpMs: terms.stepUpMs ?? null,
    });
    return opened.ok ? { ok: true, value: await this.#view(opened.value) } : opened;
  }

  /** Opens the request, or 429 when the agent already has as many pending as it may. */
  async #open(request: NewRequest): Promise<ApiResult<AccessRequest>> {
    try {
      return { ok: true, value: await this.options.approvals.open(request) };
    } catch (err) {
      if (err instanceof TooManyPendingError) return fail(429, "too_many_pending", err.message);
      throw err;
    }
  }

  /**
   * Where a request stands. With `waitSeconds`, a pending request is waited on until it is
   * decided, the time is up (at most MAX_WAIT_SECONDS) or the caller goes away; an agent holds
   * at most `waitsPerAgent` such waits at once.
   */
  async status(agent: AgentIdentity, id: string, wait: { seconds: number; signal?: AbortSignal } = { seconds: 0 }): Promise<ApiResult<RequestView>> {
    const request = await this.#own(agent, id);
    if (!request) return NOT_FOUND;
    if (request.status !== "pending" || wait.seconds <= 0) return { ok: true, value: await this.#view(request) };
    const release = this.#waits.enter(agent.agentId);
    if (!release) return fail(429, "too_many_waits", `at most ${this.#waits.perAgent} waits at once per agent; wait for one to end`);
    const giveUp = deadline(Math.min(wait.seconds, MAX_WAIT_SECONDS) * 1000, wait.signal);
    try {
      await this.options.approvals.outcome(id, giveUp.signal);
    } finally {
      giveUp.done();
      release();
    }
    return { ok: true, value: await this.#view((await this.options.approvals.get(id))!) };
  }

  /** The agent withdraws a pending request of its own. */
  async cancel(agent: AgentIdentity, id: string): Promise<ApiResult<RequestView>> {
    if (!(await this.#own(agent, id))) return NOT_FOUND;
    await this.options.approvals.cancel(id, "withdrawn by the agent");
    return { ok: true, value: await this.#view((await this.options.approvals.get(id))!) };
  }

  async grants(agent: AgentIdentity): Promise<GrantView[]> {
    return (await this.options.grants.active(new Date(), agent.agentId)).map((g) => grantView(g));
  }

  /** The agent gives a grant back before it ends; at once, as a revocation by a person is. */
  async giveBack(agent: AgentIdentity, grantId: string): Promise<ApiResult<GrantView>> {
    const grant = await this.options.grants.get(grantId);
    if (!grant || grant.agentId !== agent.agentId) return fail(404, "not_found", "no such grant");
    const revoked = await this.options.grants.revoke(grantId, `${agent.agentId} (given back)`);
    return { ok: true, value: grantView(revoked ?? grant) };
  }

  async #own(agent: AgentIdentity, id: string): Promise<AccessRequest | undefined> {
    const request = await this.options.approvals.get(id);
    return request && request.agentId === agent.agentId ? request : undefined;
  }

  async #view(request: AccessRequest): Promise<RequestView> {
    const { approvals, grants, publicUrl } = this.options;
    return requestView(request, {
      decisions: await approvals.decisions(request.id),
      grant: request.grantId ? await grants.get(request.grantId) : undefined,
      url: `${publicUrl}/requests/${request.id}`,
      dsn: this.dsn(request.agentId, request.resource),
    });
  }

  /** Where the agent connects: the proxy, as the agent, with its token as the password (not in the DSN). */
  dsn(agentId: string, resource: string): string {
    const { host, port } = this.options.proxy;
    const reachable = host === "0.0.0.0" || host === "::" ? new URL(this.options.publicUrl).hostname : host;
    const hostPart = reachable.includes(":") ? `[${reachable}]` : reachable;
    return `postgres://${encodeURIComponent(agentId)}@${hostPart}:${port}/${encodeURIComponent(resource)}`;
  }
}
