import type { JWTPayload } from "jose";
import { requiredText, type ClaimMapping } from "../claim-mapping";
import { readGroupsClaim } from "../roles";
import { TokenError } from "../token-error";

export interface OidcMappingOptions {
  groupsClaim: string;
  /**
   * The OAuth clients whose tokens are agents' (see agentClientIds): the token's `client_id`
   * (RFC 9068) or `azp` must be one of them. Undefined: any client of this issuer.
   */
  clientIds?: readonly string[];
  /** Where the list is configured, named when a token is refused for it. */
  clientIdsSetting?: string;
}

/**
 * An OAuth client-credentials issuer (the development IdP, Okta, Entra ID, Keycloak…): the agent
 * is the token's subject, its groups the groups claim. In an AGENT_ISSUERS_FILE entry, both get the
 * entry's name in front: such an IdP may mint any subject and groups, which must not be another
 * issuer's agent.
 */
export function oidcMapping(options: OidcMappingOptions): ClaimMapping {
  const setting = options.clientIdsSetting ?? "AGENT_CLIENT_IDS";
  return (claims) => {
    if (options.clientIds && !options.clientIds.includes(clientIdOf(claims) ?? "")) {
      throw new TokenError("client", `token was not issued to an agent's client (${setting})`);
    }
    return { agentId: requiredText(claims, "sub", "an agent token"), groups: readGroupsClaim(claims[options.groupsClaim]) };
  };
}

function clientIdOf(payload: JWTPayload): string | undefined {
  const id = payload.client_id ?? payload.azp;
  return typeof id === "string" ? id : undefined;
}
