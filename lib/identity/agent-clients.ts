import { ConfigError } from "../config";

export interface AgentClientSettings {
  /** Where agents' tokens come from. */
  agentIssuer: string;
  /** Where people's sign-in tokens come from. */
  peopleIssuer: string | undefined;
  /** AGENT_CLIENT_IDS, when set. */
  configured: readonly string[] | undefined;
  /** The list when no one configured one: the development IdP's seeded agents, when it is the agent issuer. */
  fallback: readonly string[] | undefined;
}

/**
 * Which OAuth clients' tokens are agents' (checked against `client_id`/`azp`), or undefined for
 * any client of a separate agent issuer. When people and agents share an issuer, a person's token
 * for the agents' audience would otherwise make them an agent named by their subject, free to
 * approve their own requests: then the list is required.
 */
export function agentClientIds(settings: AgentClientSettings): readonly string[] | undefined {
  if (settings.configured) return settings.configured;
  if (settings.agentIssuer !== settings.peopleIssuer) return undefined;
  if (settings.fallback) return settings.fallback;
  throw new ConfigError(
    `agents' tokens come from the same issuer as people's (${settings.agentIssuer}): set AGENT_CLIENT_IDS to your agents' client ids, or AGENT_OIDC_ISSUER to an issuer only agents use`,
  );
}
