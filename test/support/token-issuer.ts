import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from "jose";

/**
 * A workload token issuer on loopback, as GitHub's or a cluster's looks to Airlock: OIDC discovery
 * and a JWKS with a key made for this test, and a way to mint tokens with any claims.
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

/** The claims of a GitHub Actions job's OIDC token (docs.github.com, "About security hardening with OpenID Connect"). */
export function githubActionsClaims(options: { repository: string; ref?: string; environment?: string }): Record<string, unknown> {
  const [owner] = options.repository.split("/");
  const ref = options.ref ?? "refs/heads/main";
  return {
    sub: options.environment ? `repo:${options.repository}:environment:${options.environment}` : `repo:${options.repository}:ref:${ref}`,
    repository: options.repository,
    repository_owner: owner,
    repository_owner_id: "1234567",
    ref,
    ref_type: "branch",
    sha: "0123456789abcdef0123456789abcdef01234567",
    workflow: "nightly",
    job_workflow_ref: `${options.repository}/.github/workflows/nightly.yml@${ref}`,
    actor: "octocat",
    run_id: "42",
    runner_environment: "github-hosted",
    ...(options.environment ? { environment: options.environment } : {}),
  };
}

/** The claims of a projected service-account token from the TokenRequest API. */
export function kubernetesClaims(namespace: string, name: string): Record<string, unknown> {
  return {
    sub: `system:serviceaccount:${namespace}:${name}`,
    "kubernetes.io": {
      namespace,
      pod: { name: `${name}-7d4b9c-abcde`, uid: "6f0c2c1e-1111-4c8e-9a0b-000000000001" },
      serviceaccount: { name, uid: "6f0c2c1e-2222-4c8e-9a0b-000000000002" },
    },
  };
}
