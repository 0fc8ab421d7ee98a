import { createServer } from "node:http";
import { importJWK, SignJWT, type JWK } from "jose";
import type { AddressInfo } from "node:net";
import { createDevIdp } from "../../idp/provider";
import { loadOrCreateIdpSecrets, type IdpSecrets } from "../../idp/secrets";
import { requestClientCredentialsToken } from "../../lib/identity/client-credentials";
import { makeTempDir } from "./temp-dir";

export interface TestIdp {
  issuer: string;
  audience: string;
  secrets: IdpSecrets;
  /** A real access token for a seeded agent, by the client-credentials grant. */
  token(agentId: string): Promise<string>;
  /** A token as the IdP would issue it for a seeded agent, signed with its key, but expiring in `seconds`. */
  shortLivedToken(agentId: string, seconds: number): Promise<{ token: string; expiresAt: number }>;
  close(): Promise<void>;
}

/** The real development IdP on a free loopback port, with its own temp data dir. */
export async function startTestIdp(dataDir?: string): Promise<TestIdp> {
  const temp = dataDir ? undefined : makeTempDir("idp");
  const dir = dataDir ?? temp!.path;
  const secrets = await loadOrCreateIdpSecrets(dir);
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const audience = "airlock";
  const idp = createDevIdp({
    issuer: `${base}/oidc`,
    audience,
    dashboardRedirectUri: `${base}/api/auth/callback/sso`,
    postLogoutRedirectUri: `${base}/signin`,
    secrets,
  });
  server.on("request", (req, res) => idp.handle(req, res));
  return {
    issuer: idp.issuer,
    audience,
    secrets,
    token: (agentId) => requestClientCredentialsToken(idp.issuer, agentId, secrets.agentSecrets[agentId]),
    async shortLivedToken(agentId, seconds) {
      const jwk = secrets.signingKey as JWK;
      const expiresAt = Math.floor(Date.now() / 1000) + seconds;
      const token = await new SignJWT({ groups: ["agents"], client_id: agentId })
        .setProtectedHeader({ alg: "RS256", kid: jwk.kid })
        .setSubject(agentId)
        .setIssuer(idp.issuer)
        .setAudience(audience)
        .setExpirationTime(expiresAt)
        .sign(await importJWK(jwk, "RS256"));
      return { token, expiresAt };
    },
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      temp?.remove();
    },
  };
}
