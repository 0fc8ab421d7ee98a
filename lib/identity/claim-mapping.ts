import type { JWTPayload } from "jose";
import { TokenError } from "./token-error";

/** Who a verified token names: the agent id a connection's user name must equal, and its groups for policy. */
export interface MappedAgent {
  agentId: string;
  groups: string[];
}

/**
 * Reads a token whose signature, issuer, audience and lifetime are already verified, and says
 * which agent it is; throws TokenError when the claims are not of this mapping's shape (a token
 * from the wrong kind of issuer) or name a workload the entry does not allow.
 */
export type ClaimMapping = (claims: JWTPayload) => MappedAgent;

/** A claim that must be a non-empty string for the token to be of the mapping's shape. */
export function requiredText(claims: JWTPayload, name: string, shape: string): string {
  const value = claims[name];
  if (typeof value !== "string" || value === "") throw new TokenError("claims", `token is not ${shape}: claim "${name}" is missing`);
  return value;
}

/** A claim that may be absent; present, it must be a non-empty string (a malformed one is not read as absent). */
export function optionalText(claims: JWTPayload, name: string, shape: string): string | undefined {
  const value = claims[name];
  if (value === undefined) return undefined;
  if (typeof value !== "string" || value === "") throw new TokenError("claims", `token is not ${shape}: claim "${name}" is not a string`);
  return value;
}
