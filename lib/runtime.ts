import type { BreakGlassService } from "./access/break-glass";
import type { AccessService } from "./access/service";
import type { AirlockConfig } from "./config";
import type { Store } from "./db/client";
import type { LiveSessions } from "./activity/live-sessions";
import type { Readiness } from "./ops/readiness";
import type { CatalogSnapshot } from "./ops/status";
import type { GrantStore } from "./approvals/grants";
import type { ApprovalService } from "./approvals/service";
import type { EventBus } from "./events/bus";
import type { InstanceRegistry } from "./events/instances";
import type { Resource } from "./policy/policy-file";
import type { PolicySource } from "./policy/source";
import type { Classifier } from "./sql/classify";
import type { SamlSignIn } from "./identity/saml/start";

/**
 * The process-wide services, created once by server.ts. Next.js bundles route handlers apart
 * from server.ts, so module singletons are not shared; this one holder on globalThis is.
 */
export interface Runtime {
  version: string;
  config: AirlockConfig;
  /** The dashboard's URL as people reach it (AIRLOCK_PUBLIC_URL, prefix included). */
  publicUrl: string;
  /**
   * This process's own HTTP listener on loopback, `http://127.0.0.1:3000`: the server's calls to
   * itself (the development IdP's back channel) go here, since the public host name may not
   * resolve, or may lead to a TLS proxy, from where Airlock runs.
   */
  internalUrl: string;
  store: Store;
  bus: EventBus;
  /** Encrypts session cookies; from AUTH_SECRET or made once and kept in the data dir. */
  authSecret: string;
  sso: SsoSettings;
  /** People's SAML sign-in, beside OIDC, when SAML_IDP_METADATA is set. */
  saml: SamlSignIn | undefined;
  agentIssuer: string;
  proxy: { host: string; port: number };
  /** Agent sessions open on this process's proxy. */
  liveSessions: LiveSessions;
  /** The processes sharing the store (this one, `npm run proxy`), with every one's agent sessions. */
  instances: InstanceRegistry;
  policy: PolicySource;
  /** Per-resource classifiers on each database's own catalog (shared with the proxy). */
  classifiers: {
    forResource(resource: Resource): Promise<Pick<Classifier, "classify" | "catalog">>;
    /** What is known of the resource's catalog, without reading it. */
    snapshot(resource: Resource): CatalogSnapshot;
  };
  /** Logs in to a PostgreSQL resource and leaves (the status page's check); never starts an embedded one. */
  reach(resource: Resource): Promise<void>;
  approvals: ApprovalService;
  grants: GrantStore;
  /** The agent HTTP API's core: access requests, their long-polls, the agent's grants. */
  access: AccessService;
  /** Emergency access without approval (policy break_glass), and its review afterwards. */
  breakGlass: BreakGlassService;
  /** Whether this instance should get traffic now (`GET /api/ready`). */
  readiness(): Promise<Readiness>;
}

export interface SsoSettings {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** The built-in development identity provider is serving the issuer. */
  development: boolean;
  /**
   * People sign in with it. Not when a company SAML IdP is set and OIDC_ISSUER is not: the
   * development IdP's seeded people and known password must not open a real deployment (it
   * still runs for agents' tokens unless AGENT_OIDC_ISSUER is set).
   */
  people: boolean;
}

const KEY = Symbol.for("airlock.runtime");
type Holder = typeof globalThis & { [KEY]?: Runtime };

export function setRuntime(runtime: Runtime): void {
  (globalThis as Holder)[KEY] = runtime;
}

export function getRuntime(): Runtime {
  const runtime = (globalThis as Holder)[KEY];
  if (!runtime) throw new Error("Airlock services are not running in this process: start Airlock with `npm start`.");
  return runtime;
}
