import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import Provider from "oidc-provider";
import { agentTokenConfiguration } from "../../idp/agent-tokens";
import { createSigningKey } from "../../idp/secrets";
import { requestClientCredentialsToken } from "../../lib/identity/client-credentials";

/** Workload tokens are short-lived: GitHub's last minutes, a projected service-account token about an hour. */
const WORKLOAD_TOKEN_TTL_SECONDS = 10 * 60;

export interface WorkloadIdp {
  issuer: string;
  /**
   * A real access token for one of its clients, fetched over HTTP by the client-credentials grant;
   * for `audience` (one of its `otherAudiences`) when given, as a job names its token's audience.
   */
  token(clientId: string, options?: { audience?: string }): Promise<string>;
  close(): Promise<void>;
}

export interface WorkloadIdpOptions {
  /** Its clients by id, each with the claims of its tokens (a `sub` among them is the token's subject). */
  clients: Record<string, Record<string, unknown>>;
  /** The audience of a token asked for with none. */
  audience: string;
  otherAudiences?: readonly string[];
}

/**
 * A real OpenID Provider (oidc-provider) on a free loopback port, standing in for a workload
 * platform's issuer (GitHub Actions, a Kubernetes cluster, a partner's IdP): discovery, JWKS, and
 * JWT access tokens shaped by the claims given, configured as the development IdP's agent tokens are.
 */
export async function startWorkloadIdp(options: WorkloadIdpOptions): Promise<WorkloadIdp> {
  const [signingKey, server] = await Promise.all([createSigningKey(), listening()]);
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const secret = randomBytes(24).toString("base64url");
  const agentTokens = agentTokenConfiguration({
    agentClaims: (clientId) => (Object.hasOwn(options.clients, clientId) ? options.clients[clientId] : undefined),
    audience: options.audience,
    otherAudiences: options.otherAudiences,
    ttlSeconds: WORKLOAD_TOKEN_TTL_SECONDS,
  });
  const provider = new Provider(issuer, {
    clients: Object.keys(options.clients).map((clientId) => ({ client_id: clientId, client_secret: secret, grant_types: ["client_credentials"], response_types: [], redirect_uris: [] })),
    jwks: { keys: [signingKey] },
    cookies: { keys: [randomBytes(24).toString("base64url")] },
    ...agentTokens,
    features: { devInteractions: { enabled: false }, ...agentTokens.features },
  });
  server.on("request", provider.callback());
  return {
    issuer,
    token: (clientId, { audience } = {}) => requestClientCredentialsToken(issuer, clientId, secret, { resource: audience }),
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

async function listening() {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return server;
}
