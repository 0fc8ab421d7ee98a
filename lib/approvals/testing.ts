/** For tests of approvals and what shows them (Slack): one held statement, as the proxy opens it. */
import type { AccessRequest } from "../db/schema";
import type { NewRequest } from "./service";

/** A held `update orders …` of reporting-agent on demo, for agents-write; fields as given override. */
export function heldUpdate(overrides: Partial<NewRequest> = {}): NewRequest {
  return {
    agentId: "reporting-agent",
    groups: ["agents"],
    resource: "demo",
    sessionId: "s1",
    statements: [{ text: "update orders set status = 'x' where id = 1", params: null }],
    scope: [{ kind: "update", table: "public.orders" }],
    rule: "agents-write",
    why: "update on public.orders",
    approverGroups: ["db-approvers"],
    requiredApprovals: 1,
    grantOptions: ["once", 900_000, 3_600_000],
    timeoutMs: 60_000,
    ...overrides,
  };
}

/** The same request as the store keeps it, pending since `createdAt`. */
export function storedRequest(createdAt: Date, overrides: Partial<AccessRequest> = {}): AccessRequest {
  const { timeoutMs, ...held } = heldUpdate();
  return {
    ...held,
    id: "r_0a1b",
    kind: "statement",
    status: "pending",
    createdAt,
    expiresAt: new Date(createdAt.getTime() + timeoutMs),
    decidedAt: null,
    outcomeReason: null,
    grantId: null,
    consumedAt: null,
    durationMs: null,
    reason: null,
    heldBy: null,
    followUp: null,
    stepUpMs: null,
    ...overrides,
  };
}
