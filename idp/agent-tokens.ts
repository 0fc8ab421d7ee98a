import { errors, type Configuration, type KoaContextWithOIDC } from "oidc-provider";

/** What an agent's token asks for when it names no `resource`: the agents' default audience. */
const AGENT_RESOURCE = "urn:airlock:agents";

export interface AgentTokenOptions {
  /**
   * Whether a client is an agent, and if so the claims its access tokens carry besides the
   * standard ones (`iss`, `aud`, `exp`, `client_id`…). A `sub` among them names the subject (a
   * workload's, say); without one the subject is the client id.
   */
  agentClaims(clientId: string): Record<string, unknown> | undefined;
  /** The audience of an agent's token asked for with no `resource` parameter. */
  audience: string;
  /**
   * Further audiences an agent may ask for by naming one as its `resource` (RFC 8707), as a
   * workload platform lets a job pick its token's audience. Absolute URIs, as resource indicators are.
   */
  otherAudiences?: readonly string[];
  ttlSeconds: number;
}

/**
 * oidc-provider's configuration for agents' access tokens: the client-credentials grant, each token
 * a JWT (RS256) for the agents' audience, carrying the agent's claims. The development IdP uses it
 * for its seeded agents; tests use it for stand-ins of workload issuers (GitHub Actions, Kubernetes).
 * Only an agent's client gets a token for an agents' audience: a person's token for it (a dashboard
 * client asking with resource=…) would let them act as an agent.
 */
export function agentTokenConfiguration(options: AgentTokenOptions): Pick<Configuration, "extraTokenClaims" | "formats"> & {
  features: Pick<NonNullable<Configuration["features"]>, "clientCredentials" | "resourceIndicators">;
  ttl: Pick<NonNullable<Configuration["ttl"]>, "ClientCredentials">;
} {
  const isAgent = (clientId: string | undefined) => clientId !== undefined && options.agentClaims(clientId) !== undefined;
  const audienceOf = (resource: string) => (resource === AGENT_RESOURCE ? options.audience : options.otherAudiences?.includes(resource) ? resource : undefined);
  return {
    features: {
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: (ctx: KoaContextWithOIDC) => (isAgent(ctx.oidc.client?.clientId) ? AGENT_RESOURCE : undefined!),
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx: KoaContextWithOIDC, resource: string, client: { clientId: string }) => {
          const audience = audienceOf(resource);
          if (audience === undefined || !isAgent(client.clientId)) throw new errors.InvalidTarget("only Airlock's agents get tokens for Airlock");
          return { scope: "", audience, accessTokenTTL: options.ttlSeconds, accessTokenFormat: "jwt", jwt: { sign: { alg: "RS256" } } };
        },
      },
    },
    ttl: { ClientCredentials: options.ttlSeconds },
    extraTokenClaims: (_ctx, token) => (token.kind === "ClientCredentials" ? options.agentClaims(token.clientId ?? "") : undefined),
    formats: {
      customizers: {
        // oidc-provider writes the client id as `sub` after the extra claims; an agent's own wins.
        jwt: (_ctx, token, jwt) => {
          const sub = token.kind === "ClientCredentials" ? token.extra?.sub : undefined;
          if (typeof sub === "string") jwt.payload.sub = sub;
        },
      },
    },
  };
}
