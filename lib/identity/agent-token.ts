import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from "jose";
import { readGroupsClaim } from "./roles";

/** Who an agent is, as its verified token says. */
export interface AgentIdentity {
  agentId: string;
  groups: string[];
  issuer: string;
  /** Seconds since the epoch; the session must end when this passes. */
  expiresAt: number;
}

export type TokenProblem = "malformed" | "signature" | "expired" | "not-yet-valid" | "issuer" | "audience" | "client" | "claims" | "unavailable";

/** A refused token, with a reason that is safe to show the agent (no token material). */
export class TokenError extends Error {
  constructor(
    readonly problem: TokenProblem,
    message: string,
  ) {
    super(message);
    this.name = "TokenError";
  }
}

/** What an agent hears when its token's keys cannot be had: the IdP's fault, not the token's. */
const KEYS_UNAVAILABLE = "identity provider is unreachable (its signing keys could not be fetched)";

// Asymmetric algorithms only: "none" and HMAC (signed with a guessable shared secret) never pass.
const ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"];

export interface AgentTokenVerifierOptions {
  issuer: string;
  audience: string;
  groupsClaim?: string;
  /**
   * The OAuth clients whose tokens are agents' (see agentClientIds): the token's `client_id`
   * (RFC 9068) or `azp` must be one of them. Undefined: any client of this issuer.
   */
  clientIds?: readonly string[];
  /** Key source; defaults to the issuer's JWKS found through OIDC discovery. */
  keys?: JWTVerifyGetKey;
}

export type AgentTokenVerifier = (token: string) => Promise<AgentIdentity>;

export function createAgentTokenVerifier(options: AgentTokenVerifierOptions): AgentTokenVerifier {
  const keys = options.keys ?? discoveredKeys(options.issuer);
  const groupsClaim = options.groupsClaim ?? "groups";

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
    if (options.clientIds && !options.clientIds.includes(clientIdOf(payload) ?? "")) {
      throw new TokenError("client", "token was not issued to an agent's client (AGENT_CLIENT_IDS)");
    }
    return {
      agentId: payload.sub as string,
      groups: readGroupsClaim(payload[groupsClaim]),
      issuer: options.issuer,
      expiresAt: payload.exp as number,
    };
  };
}

function clientIdOf(payload: JWTPayload): string | undefined {
  const id = payload.client_id ?? payload.azp;
  return typeof id === "string" ? id : undefined;
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
    const res = await fetch(`${issuer}/.well-known/openid-configuration`, { signal: AbortSignal.timeout(5000) });
    if (!res.ok) throw new Error(`discovery answered ${res.status}`);
    const { jwks_uri: jwksUri } = (await res.json()) as { jwks_uri?: string };
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
