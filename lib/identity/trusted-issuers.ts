import { decodeJwt } from "jose";
import { agentClaimMapping, createAgentTokenVerifier, type AgentTokenVerifier, type AgentTokenVerifierOptions } from "./agent-token";
import type { ClaimMapping } from "./claim-mapping";
import { ConfigError } from "../config";
import { TokenError } from "./token-error";

/** Longest issuer an agent is told back when it is not trusted: enough for any real URL, not a wall of text. */
const MAX_ECHOED_ISSUER = 200;

/**
 * An issuer entry's name, which is also its namespace: lower-case letters, digits and '-', never
 * ':', so in `NAME:…` the first ':' always ends the name and no two entries' prefixes overlap.
 */
export const ISSUER_NAME = /^[a-z0-9][a-z0-9-]*$/;

/** One trusted issuer: the default one (no name) or an entry of AGENT_ISSUERS_FILE (its name). */
export interface TrustedIssuerOptions extends AgentTokenVerifierOptions {
  /**
   * The entry's name: its agents' ids and the groups its mapping gives are written `NAME:…`, so no
   * other issuer's agent can have them. Undefined for the default issuer, whose ids and groups stay
   * as its tokens say, but may not fall inside any entry's namespace.
   */
  name?: string;
}

/**
 * One verifier for several trusted issuers. The token's unverified `iss` only picks the entry;
 * that entry's verifier then checks everything again (signature against its own keys, issuer,
 * audience, lifetime, and its mapping's claims), so a forged `iss` gains nothing but a refusal.
 *
 * Agent ids key grants and pending requests, and ids and groups are what rules match: were they one
 * namespace for all issuers, an IdP that mints any `sub` and groups could be a GitHub job or a
 * cluster's namespace to the policy. Each named entry therefore gets its own namespace.
 */
export function createTrustedIssuersVerifier(entries: readonly TrustedIssuerOptions[]): AgentTokenVerifier {
  const names = entries.flatMap((entry) => (entry.name === undefined ? [] : [entry.name]));
  for (const name of names) {
    if (!ISSUER_NAME.test(name)) throw new ConfigError(`agent issuer name ${JSON.stringify(name)} must be lower-case letters, digits or '-'`);
    if (names.indexOf(name) !== names.lastIndexOf(name)) throw new ConfigError(`agent issuer name ${name} is used twice`);
  }
  const verifiers = new Map<string, AgentTokenVerifier>();
  for (const entry of entries) {
    if (verifiers.has(entry.issuer)) throw new ConfigError(`agent issuer ${entry.issuer} is configured twice (AGENT_OIDC_ISSUER and AGENT_ISSUERS_FILE, or twice in the file)`);
    const mapping = agentClaimMapping(entry);
    verifiers.set(entry.issuer, createAgentTokenVerifier({ ...entry, mapping: entry.name === undefined ? outsideNamespaces(mapping, names) : inNamespace(mapping, entry.name) }));
  }
  return async (token) => {
    const issuer = unverifiedIssuer(token);
    const verify = verifiers.get(issuer);
    if (!verify) throw new TokenError("issuer", `token issuer ${describe(issuer)} is not a trusted agent issuer`);
    return verify(token);
  };
}

/**
 * A named entry's mapping, its id and groups prefixed with `NAME:`. The entry's own `groups` (added
 * after the mapping, by the verifier) stay as written: the administrator chose them on purpose.
 */
export function inNamespace(mapping: ClaimMapping, name: string): ClaimMapping {
  return (claims) => {
    const { agentId, groups } = mapping(claims);
    return { agentId: `${name}:${agentId}`, groups: groups.map((group) => `${name}:${group}`) };
  };
}

/**
 * The default issuer's mapping, refusing a token whose subject or a group lies in an entry's
 * namespace (compared in any case, as the policy's `agents` globs are): it would otherwise be
 * that entry's agent to grants and rules.
 */
export function outsideNamespaces(mapping: ClaimMapping, names: readonly string[]): ClaimMapping {
  if (names.length === 0) return mapping;
  const inside = (value: string) => names.find((name) => value.toLowerCase().startsWith(`${name}:`));
  return (claims) => {
    const agent = mapping(claims);
    const idIn = inside(agent.agentId);
    if (idIn) throw new TokenError("not-allowed", `token subject is in the namespace of agent issuer ${idIn} ("${idIn}:…"), which the default issuer may not use`);
    for (const group of agent.groups) {
      const groupIn = inside(group);
      if (groupIn) throw new TokenError("not-allowed", `token group is in the namespace of agent issuer ${groupIn} ("${groupIn}:…"), which the default issuer may not use`);
    }
    return agent;
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
