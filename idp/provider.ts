import type { IncomingMessage, ServerResponse } from "node:http";
import Provider, { type Configuration } from "oidc-provider";
import { agentTokenConfiguration } from "./agent-tokens";
import { handleInteraction } from "./interactions";
import { IDP_PAGE_CSP, renderIdpError } from "./login-page";
import { DASHBOARD_CLIENT_ID, SEED_AGENTS, findSeedAgent, findSeedPerson } from "./seed";
import type { IdpSecrets } from "./secrets";

/** Agent tokens: what DESIGN.md promises an agent's access token carries. */
export const AGENT_TOKEN_TTL_SECONDS = 15 * 60;
const PERSON_SESSION_TTL_SECONDS = 8 * 60 * 60;

export interface DevIdpOptions {
  /** Absolute public issuer URL, e.g. https://airlock.example.com/db/oidc; every URL it hands out starts so. */
  issuer: string;
  /**
   * Where requests for it reach this server, e.g. /oidc: the issuer's path minus the prefix a
   * proxy strips. By default the issuer's path (no prefix).
   */
  mountPath?: string;
  audience: string;
  dashboardRedirectUri: string;
  postLogoutRedirectUri: string;
  secrets: IdpSecrets;
}

export interface DevIdp {
  issuer: string;
  mountPath: string;
  /** The dashboard's client registration, for next-auth. */
  dashboardClient: { id: string; secret: string };
  /** Serves a request whose path starts with mountPath. */
  handle(req: IncomingMessage, res: ServerResponse): void;
}

/** The development OpenID Provider: real OIDC for the seeded people and agents. */
export function createDevIdp(options: DevIdpOptions): DevIdp {
  const issuer = new URL(options.issuer);
  const publicMountPath = issuer.pathname.replace(/\/$/, "");
  const mountPath = options.mountPath ?? publicMountPath;
  const provider = new Provider(options.issuer, configuration(options, publicMountPath));
  // oidc-provider builds its endpoints' URLs from the request's host and protocol; `handle` sets
  // both from the issuer, so they match it whatever address the request came in on (the browser
  // through a proxy, or Airlock's own back channel on loopback) and whatever headers it carried.
  provider.proxy = true;
  const callback = provider.callback();

  return {
    issuer: options.issuer,
    mountPath,
    dashboardClient: { id: DASHBOARD_CLIENT_ID, secret: options.secrets.dashboardClientSecret },
    handle(req, res) {
      // After the sign-in server action, Next.js prefetches its redirect target as a React Server
      // Component; that request is not the browser's and must not start a sign-in of its own.
      if (req.headers.rsc === "1") {
        res.writeHead(204).end();
        return;
      }
      req.headers.host = issuer.host;
      req.headers["x-forwarded-host"] = issuer.host;
      req.headers["x-forwarded-proto"] = issuer.protocol.slice(0, -1);
      const inner = (req.url ?? "/").slice(mountPath.length) || "/";
      if (inner.startsWith("/interaction/")) {
        handleInteraction(provider, req, res, inner, publicMountPath).catch((err: unknown) => failInteraction(req, res, err));
        return;
      }
      // oidc-provider derives its mount path from originalUrl minus url, as under Express: the
      // public one, so its links and cookie paths carry the prefix the browser sees.
      Object.assign(req, { originalUrl: `${publicMountPath}${inner}` });
      req.url = inner;
      callback(req, res);
    },
  };
}

function configuration(options: DevIdpOptions, publicMountPath: string): Configuration {
  const { secrets } = options;
  const agentTokens = agentTokenConfiguration({
    agentClaims: (clientId) => {
      const agent = findSeedAgent(clientId);
      return agent ? { groups: agent.groups } : undefined;
    },
    audience: options.audience,
    ttlSeconds: AGENT_TOKEN_TTL_SECONDS,
  });
  return {
    clients: [
      {
        client_id: DASHBOARD_CLIENT_ID,
        client_name: "Airlock dashboard",
        client_secret: secrets.dashboardClientSecret,
        redirect_uris: [options.dashboardRedirectUri],
        post_logout_redirect_uris: [options.postLogoutRedirectUri],
        grant_types: ["authorization_code"],
        response_types: ["code"],
        // Every ID token says when the person signed in (auth_time): step-up requests count only recent sign-ins.
        require_auth_time: true,
      },
      ...SEED_AGENTS.map((agent) => ({
        client_id: agent.id,
        client_name: agent.id,
        client_secret: secrets.agentSecrets[agent.id],
        grant_types: ["client_credentials"],
        response_types: [],
        redirect_uris: [],
      })),
    ],
    jwks: { keys: [secrets.signingKey] },
    cookies: { keys: secrets.cookieKeys },
    scopes: ["openid", "email", "profile", "groups"],
    claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name"], groups: ["groups"] },
    // next-auth reads the person from the ID token only, so groups must be in it.
    conformIdTokenClaims: false,
    features: {
      devInteractions: { enabled: false },
      rpInitiatedLogout: { enabled: true },
      ...agentTokens.features,
    },
    extraTokenClaims: agentTokens.extraTokenClaims,
    formats: agentTokens.formats,
    async findAccount(_ctx, sub) {
      const person = findSeedPerson(sub);
      if (!person) return undefined;
      return {
        accountId: person.email,
        claims: () => ({ sub: person.email, email: person.email, email_verified: true, name: person.name, groups: person.groups }),
      };
    },
    // The dashboard is first-party: no consent screen, the person already chose to sign in.
    async loadExistingGrant(ctx) {
      const { oidc } = ctx;
      const clientId = oidc.client?.clientId;
      const accountId = oidc.session?.accountId;
      if (!clientId || !accountId) return undefined;
      const grantId = oidc.result?.consent?.grantId ?? oidc.session?.grantIdFor(clientId);
      if (grantId) return oidc.provider.Grant.find(grantId);
      const grant = new oidc.provider.Grant({ clientId, accountId });
      grant.addOIDCScope("openid email profile groups");
      await grant.save();
      return grant;
    },
    interactions: { url: (_ctx, interaction) => `${publicMountPath}/interaction/${interaction.uid}` },
    ttl: {
      Session: PERSON_SESSION_TTL_SECONDS,
      Grant: PERSON_SESSION_TTL_SECONDS,
      Interaction: 10 * 60,
      AuthorizationCode: 60,
      IdToken: 60 * 60,
      AccessToken: 60 * 60,
      ...agentTokens.ttl,
    },
    renderError(ctx, out) {
      ctx.type = "html";
      ctx.set("content-security-policy", IDP_PAGE_CSP);
      ctx.body = renderIdpError("Sign-in failed", `${out.error}: ${out.error_description ?? ""}`);
    },
  };
}

function failInteraction(req: IncomingMessage, res: ServerResponse, err: unknown): void {
  console.error(`[idp] ${req.method} ${req.url} failed:`, err instanceof Error ? err.message : err);
  if (res.headersSent) {
    res.end();
    return;
  }
  res.writeHead(400, { "content-type": "text/html; charset=utf-8", "content-security-policy": IDP_PAGE_CSP });
  res.end(renderIdpError("Sign-in failed", "This sign-in attempt expired or is invalid. Go back to Airlock and start again."));
}
