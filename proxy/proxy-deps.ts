import type { Socket } from "node:net";
import type { LiveSessions } from "../lib/activity/live-sessions";
import type { ActivityRecorder } from "../lib/activity/recorder";
import type { decide } from "../lib/decision/decide";
import type { AgentTokenVerifier } from "../lib/identity/agent-token";
import type { Resource } from "../lib/policy/policy-file";
import type { StartupOutcome } from "./startup";
import type { Upstream } from "./upstream/upstream";

/** What a proxy connection needs from the rest of Airlock. */
export interface ProxyDeps {
  negotiateStartup(socket: Socket): Promise<StartupOutcome>;
  verify: AgentTokenVerifier;
  /** The current policy's resources (the policy may be reloaded at any time). */
  resources(): ReadonlyMap<string, Resource>;
  decide: typeof decide;
  recorder: ActivityRecorder;
  live: LiveSessions;
  upstreams: { connect(resource: Resource, params: ReadonlyMap<string, string>): Promise<Upstream> };
}
