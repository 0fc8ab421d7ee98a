import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from "jose";

/**
 * A workload token issuer on loopback, as GitHub's or a cluster's looks to Airlock: OIDC discovery
 * and a JWKS with a key made for this test, and a way to mint tokens with any claims.
 *
 * Tokens a real provider hands out come from test/support/workload-idp.ts (oidc-provider, over
 * HTTP); the proxy's end-to-end test uses only those. This hand-made issuer stays for the
 * verifier's unit tests (lib/identity/trusted-issuers.test.ts, which also use it to vary claims
 * token by token), as they need tokens no OpenID Provider issues: one claiming another issuer's `iss` but signed with this key, an empty or
 * oversized `iss`, one already expired, and a discovery document that names another issuer
 * (`announce`). oidc-provider always signs its own `iss` with its own keys, sets `exp` from now,
 * and names itself in its discovery document.
 */
export interface LocalIssuer {
  issuer: string;
  /** A token signed with this issuer's key; `iss`, `aud`, `iat` and a 10-minute `exp` unless given. */
  mint(claims: Record<string, unknown>, options?: { audience?: string | string[]; iss?: string; expiresAt?: number }): Promise<string>;
  close(): Promise<void>;
}

/** `announce`: the issuer its discovery document names, when a test wants it to name another. */
export async function startLocalIssuer(options: { announce?: string } = {}): Promise<LocalIssuer> {
  const { publicKey, privateKey } = await generateKeyPair("ES256");
  const kid = `test-${Math.random().toString(36).slice(2)}`;
  const jwks = { keys: [{ ...(await exportJWK(publicKey)), kid, alg: "ES256", use: "sig" }] };
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  server.on("request", (req, res) => {
    const body = req.url === "/.well-known/openid-configuration" ? { issuer: options.announce ?? issuer, jwks_uri: `${issuer}/jwks` } : req.url === "/jwks" ? jwks : undefined;
    res.writeHead(body ? 200 : 404, { "content-type": "application/json" }).end(JSON.stringify(body ?? { error: "not found" }));
  });
  return {
    issuer,
    mint: (claims, options = {}) => sign(privateKey, kid, { iss: options.iss ?? issuer, aud: options.audience ?? "airlock", ...claims }, options.expiresAt),
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

function sign(key: CryptoKey, kid: string, claims: Record<string, unknown>, expiresAt?: number): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT(claims).setProtectedHeader({ alg: "ES256", kid, typ: "JWT" }).setIssuedAt(now).setNotBefore(now - 5).setExpirationTime(expiresAt ?? now + 600).sign(key);
}
