import type { Socket } from "node:net";
import type { LiveSessions } from "../lib/activity/live-sessions";
import type { ActivityRecorder } from "../lib/activity/recorder";
import type { GrantStore } from "../lib/approvals/grants";
import type { ApprovalService } from "../lib/approvals/service";
import type { Maskers } from "../lib/masking/maskers";
import type { ProxyLimits } from "../lib/config";
import type { EventBus } from "../lib/events/bus";
import type { AgentTokenVerifier } from "../lib/identity/agent-token";
import type { StatementRates } from "../lib/decision/statement-rates";
import type { StatementTimer } from "../lib/ops/metrics";
import type { Policy, Resource } from "../lib/policy/policy-file";
import type { Classifier } from "./classifiers";
import type { RequestPreviews } from "./preview/request-previews";
import type { RequestUndos } from "./undo/request-undos";
import type { StartupOutcome } from "./startup";
import type { Upstream } from "./upstream/upstream";

/** What a proxy connection needs from the rest of Airlock. */
export interface ProxyDeps {
  negotiateStartup(socket: Socket): Promise<StartupOutcome>;
  verify: AgentTokenVerifier;
  /** The policy in force now (it may be reloaded at any time). */
  policy(): Policy;
  classifiers: { forResource(resource: Resource): Promise<Classifier>; invalidate(resource: Resource): void };
  recorder: ActivityRecorder;
  approvals: ApprovalService;
  grants: GrantStore;
  /** Grant revocations, heard by the sessions working under them. */
  bus?: EventBus;
  /** The dashboard's URL as people reach it, for links to requests. */
  publicUrl(): string;
  live: LiveSessions;
  maskers: Maskers;
  upstreams: { connect(resource: Resource, params: ReadonlyMap<string, string>): Promise<Upstream> };
  /** Timeouts, connection caps and message sizes (AIRLOCK_MAX_CONNECTIONS…). */
  limits: ProxyLimits;
  /** Held requests' impact previews (proxy/preview), when this proxy makes them. */
  previews?: Pick<RequestPreviews, "start">;
  /** Keeps approved writes' undo captures (proxy/undo). */
  undos?: Pick<RequestUndos, "save">;
  /** A resource's statement-time histograms (`/metrics`), when metrics are on. */
  statementTimer?(resource: string): StatementTimer;
  /** Each agent's statements a minute under rules with `statements_per_minute`, over its sessions on this instance. */
  rates: StatementRates;
}
