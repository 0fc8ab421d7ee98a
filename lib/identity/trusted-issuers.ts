import { decodeJwt } from "jose";
import { createAgentTokenVerifier, type AgentTokenVerifier, type AgentTokenVerifierOptions } from "./agent-token";
import { ConfigError } from "../config";
import { TokenError } from "./token-error";

/** Longest issuer an agent is told back when it is not trusted: enough for any real URL, not a wall of text. */
const MAX_ECHOED_ISSUER = 200;

/**
 * One verifier for several trusted issuers. The token's unverified `iss` only picks the entry;
 * that entry's verifier then checks everything again (signature against its own keys, issuer,
 * audience, lifetime, and its mapping's claims), so a forged `iss` gains nothing but a refusal.
 */
export function createTrustedIssuersVerifier(entries: readonly AgentTokenVerifierOptions[]): AgentTokenVerifier {
  const verifiers = new Map<string, AgentTokenVerifier>();
  for (const entry of entries) {
    if (verifiers.has(entry.issuer)) throw new ConfigError(`agent issuer ${entry.issuer} is configured twice (AGENT_OIDC_ISSUER and AGENT_ISSUERS_FILE, or twice in the file)`);
    verifiers.set(entry.issuer, createAgentTokenVerifier(entry));
  }
  return async (token) => {
    const issuer = unverifiedIssuer(token);
    const verify = verifiers.get(issuer);
    if (!verify) throw new TokenError("issuer", `token issuer ${describe(issuer)} is not a trusted agent issuer`);
    return verify(token);
  };
}

function unverifiedIssuer(token: string): string {
  let iss: unknown;
  try {
    ({ iss } = decodeJwt(token));
  } catch {
    throw new TokenError("malformed", "token is not a valid JWT");
  }
  if (typeof iss !== "string" || iss === "") throw new TokenError("issuer", "token names no issuer (iss)");
  return iss;
}

/** The issuer in words safe to send back and log: printable, bounded. */
function describe(issuer: string): string {
  return issuer.length <= MAX_ECHOED_ISSUER && /^[\x21-\x7e]+$/.test(issuer) ? issuer : "(unprintable or too long)";
}
