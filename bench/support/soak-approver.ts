/**
 * `npm run soak`'s people and agent API, in the soak's own process on the proxy's data dir: an
 * approvals service on the same store and its event bus (as the dashboard beside `npm run proxy`,
 * see bench/support/decider.ts), a scripted approver, and the agent API's service (what
 * `POST /api/v1/access-requests` calls), so access requests need no Next.js server.
 *
 * Not scripts/fuzz/auto-decider.ts: that one decides at random, while the soak times each kind
 * by what the approver will do with it, so this one decides by a marker in the held SQL.
 */
import { AccessService } from "../../lib/access/service";
import { BreakGlassService } from "../../lib/access/break-glass";
import { LocalAgentApi } from "../../lib/access/local-api";
import { GrantStore } from "../../lib/approvals/grants";
import type { Decider } from "../../lib/approvals/people";
import { ApprovalService } from "../../lib/approvals/service";
import { openStore, type Store } from "../../lib/db/client";
import { EventBus } from "../../lib/events/bus";
import { currentInstance } from "../../lib/events/instances";
import { eventTransport } from "../../lib/events/transport";
import { createAgentTokenVerifier } from "../../lib/identity/agent-token";
import { parsePolicy } from "../../lib/policy/policy-file";
import { DENY_MARK, GRANT_MARK } from "./soak-workload";

const ALICE: Decider = { email: "alice@example.com", groups: ["db-approvers"], role: "approver" };
/** How often the approver reads the queue. */
const POLL_MS = 50;
/** What a "soak:grant" write is approved for: the rule offers it (grants: [once, 1m]). */
const GRANT_MS = 60_000;

export interface SoakPeople {
  store: Store;
  approvals: ApprovalService;
  /** The agent API as one agent (its token verified as the proxy verifies it). */
  apiFor(token: string): Promise<LocalAgentApi>;
  decided(): { approved: number; denied: number; granted: number; refusals: number };
  stopDeciding(): void;
  close(): Promise<void>;
}

export async function startSoakPeople(options: { dataDir: string; policy: string; agentIssuer: string; proxy: { host: string; port: number } }): Promise<SoakPeople> {
  const store = await openStore({ dataDir: options.dataDir });
  const bus = new EventBus(eventTransport(store, currentInstance("soak-approver")));
  const grants = new GrantStore(store, bus);
  const approvals = new ApprovalService(store, grants, bus, { maxPendingPerAgent: 1000 });
  const policy = parsePolicy(options.policy);
  const verify = createAgentTokenVerifier({ issuer: options.agentIssuer, audience: "airlock" });
  const access = new AccessService({ approvals, grants, policy: () => policy, verify, publicUrl: "http://127.0.0.1:0", proxy: options.proxy, waitsPerAgent: 4 });
  const breakGlass = new BreakGlassService({ store, grants, bus, policy: () => policy });

  const counts = { approved: 0, denied: 0, granted: 0, refusals: 0 };
  const decideAll = async () => {
    for (const request of await approvals.list("pending", 500)) {
      const sql = request.statements[0]?.text ?? "";
      const decision =
        request.kind === "access"
          ? ({ action: "approve", grant: request.durationMs ?? GRANT_MS } as const)
          : sql.includes(DENY_MARK)
            ? ({ action: "deny", reason: "soak: denied" } as const)
            : sql.includes(GRANT_MARK)
              ? ({ action: "approve", grant: GRANT_MS } as const)
              : ({ action: "approve", grant: "once" } as const);
      const result = await approvals.decide({ requestId: request.id, person: ALICE, via: "web", ...decision });
      // Already decided: the agent went away (cancelled) between the read and the decision.
      if (!result.ok) counts.refusals++;
      else if (decision.action === "deny") counts.denied++;
      else if (decision.grant === "once") counts.approved++;
      else counts.granted++;
    }
  };
  let busy = false;
  const timer = setInterval(() => {
    // One round at a time: a slow store must not pile rounds up.
    if (busy) return;
    busy = true;
    decideAll()
      .catch((err: unknown) => console.error("[soak approver] deciding failed:", err))
      .finally(() => (busy = false));
  }, POLL_MS);

  return {
    store,
    approvals,
    async apiFor(token) {
      return new LocalAgentApi({ access, breakGlass }, await verify(token));
    },
    decided: () => ({ ...counts }),
    stopDeciding: () => clearInterval(timer),
    async close() {
      clearInterval(timer);
      approvals.close();
      grants.close();
      bus.close();
      await store.close();
    },
  };
}
