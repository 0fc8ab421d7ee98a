/** Who is asking: the verified agent behind one proxy session. */
export interface SessionIdentity {
  sessionId: string;
  agentId: string;
  groups: readonly string[];
  resource: string;
}

export interface Statement {
  text: string;
  /** Bound parameters in text form (binary ones hex-encoded), for the extended protocol. */
  params?: ReadonlyArray<string | null>;
  protocol: "simple" | "extended";
}

export type Decision =
  | { action: "allow" }
  | { action: "refuse"; code: "42501"; message: string; rule?: string };

const ALLOW: Decision = { action: "allow" };

/**
 * The one decision point: every statement of every agent, simple or extended protocol, is
 * decided here before it reaches the database. Policy, holds and masking plug in here.
 */
export function decide(_session: SessionIdentity, _statement: Statement): Decision {
  return ALLOW;
}
