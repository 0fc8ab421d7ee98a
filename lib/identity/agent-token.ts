import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from "jose";
import type { ClaimMapping } from "./claim-mapping";
import { oidcMapping } from "./mappings/oidc";
import { TokenError } from "./token-error";

export { TokenError, type TokenProblem } from "./token-error";

/** Who an agent is, as its verified token says. */
export interface AgentIdentity {
  agentId: string;
  groups: string[];
  issuer: string;
  /** Seconds since the epoch; the session must end when this passes. */
  expiresAt: number;
  /** The verified token's claims (row filters' `{{claims.NAME}}`). */
  claims?: Readonly<Record<string, unknown>>;
}

/** What an agent hears when its token's keys cannot be had: the IdP's fault, not the token's. */
const KEYS_UNAVAILABLE = "identity provider is unreachable (its signing keys could not be fetched)";

// Asymmetric algorithms only: "none" and HMAC (signed with a guessable shared secret) never pass.
const ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"];

export interface AgentTokenVerifierOptions {
  issuer: string;
  audience: string;
  /** How the claims name the agent; defaults to an OIDC client-credentials issuer's (groupsClaim, clientIds). */
  mapping?: ClaimMapping;
  groupsClaim?: string;
  /** See OidcMappingOptions.clientIds. */
  clientIds?: readonly string[];
  /** Groups every agent of this issuer is in, besides those its claims give. */
  groups?: readonly string[];
  /** Key source; defaults to the issuer's JWKS found through OIDC discovery. */
  keys?: JWTVerifyGetKey;
}

export type AgentTokenVerifier = (token: string) => Promise<AgentIdentity>;

export function createAgentTokenVerifier(options: AgentTokenVerifierOptions): AgentTokenVerifier {
  const keys = options.keys ?? discoveredKeys(options.issuer);
  const mapping = agentClaimMapping(options);

  return async (token) => {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys, {
        issuer: options.issuer,
        audience: options.audience,
        algorithms: ALGORITHMS,
        requiredClaims: ["sub", "exp"],
      }));
    } catch (err) {
      throw explain(err, options);
    }
    const { agentId, groups } = mapping(payload);
    return {
      agentId,
      groups: [...new Set([...groups, ...(options.groups ?? [])])],
      issuer: options.issuer,
      expiresAt: payload.exp as number,
      claims: payload,
    };
  };
}

/** The options' mapping, or else an OIDC client-credentials issuer's from groupsClaim and clientIds. */
export function agentClaimMapping(options: AgentTokenVerifierOptions): ClaimMapping {
  return options.mapping ?? oidcMapping({ groupsClaim: options.groupsClaim ?? "groups", clientIds: options.clientIds });
}

function explain(err: unknown, options: AgentTokenVerifierOptions): TokenError {
  if (err instanceof TokenError) return err;
  if (err instanceof errors.JWTExpired) return new TokenError("expired", "token expired");
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === "aud") return new TokenError("audience", `token audience is not "${options.audience}"`);
    if (err.claim === "iss") return new TokenError("issuer", `token was not issued by ${options.issuer}`);
    if (err.claim === "nbf" || err.claim === "iat") return new TokenError("not-yet-valid", "token is not valid yet");
    return new TokenError("claims", `token claim "${err.claim}" is missing or invalid`);
  }
  if (err instanceof errors.JWSSignatureVerificationFailed || err instanceof errors.JWKSNoMatchingKey) {
    return new TokenError("signature", "token signature does not verify");
  }
  if (err instanceof errors.JOSEAlgNotAllowed) return new TokenError("signature", "token algorithm is not allowed");
  // Anything that is not a JOSE verdict on the token itself is a failure to reach the keys: no
  // answer in time, a refused connection, or an answer that is not a key set (jose's plain
  // JOSEError is its "not 200 OK" or "not JSON", as a load balancer's 503 page in front of a down IdP).
  if (err instanceof errors.JWKSTimeout || err instanceof errors.JWKSInvalid || !(err instanceof errors.JOSEError) || err.code === errors.JOSEError.code) {
    return new TokenError("unavailable", KEYS_UNAVAILABLE);
  }
  return new TokenError("malformed", "token is not a valid JWT");
}

/** The issuer's signing keys, located through OIDC discovery once and then cached by jose. */
function discoveredKeys(issuer: string): JWTVerifyGetKey {
  let keySet: Promise<JWTVerifyGetKey> | undefined;
  const load = async (): Promise<JWTVerifyGetKey> => {
    // OIDC Discovery §4: the document sits under the issuer's path; an issuer may end in "/".
    const res = await fetch(`${issuer.replace(/\/$/, "")}/.well-known/openid-configuration`, { signal: AbortSignal.timeout(5000) });
    if (!res.ok) throw new Error(`discovery answered ${res.status}`);
    const { issuer: named, jwks_uri: jwksUri } = (await res.json()) as { issuer?: unknown; jwks_uri?: string };
    // §4.3: a document naming another issuer is not this issuer's, whatever keys it points to.
    if (named !== issuer) throw new Error(`discovery document names issuer ${JSON.stringify(named)}`);
    if (!jwksUri) throw new Error("discovery document has no jwks_uri");
    return createRemoteJWKSet(new URL(jwksUri));
  };
  return async (header, token) => {
    keySet ??= load().catch((err: unknown) => {
      keySet = undefined; // try discovery again next time
      throw new TokenError("unavailable", `identity provider is unreachable (its signing keys could not be fetched: ${err instanceof Error ? err.message : err})`);
    });
    return (await keySet)(header, token);
  };
}
