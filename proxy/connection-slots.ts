import type { ByteBudget } from "./protocol/message-buffer";
import { PgWireError, SqlState } from "./wire-error";

export interface SlotLimits {
  maxConnections: number;
  maxConnectionsPerAgent: number;
  maxBufferedBytesPerAgent: number;
}

/** One agent's share of the proxy: its open sessions and the bytes its unfinished messages hold. */
class AgentShare implements ByteBudget {
  connections = 0;
  #bytes = 0;

  constructor(
    readonly agentId: string,
    readonly maxBytes: number,
  ) {}

  add(bytes: number): void {
    this.#bytes += bytes;
  }

  get bytes(): number {
    return this.#bytes;
  }

  get exceeded(): boolean {
    return this.#bytes > this.maxBytes;
  }

  refusal(): string {
    return `airlock: agent "${this.agentId}" is sending more than ${this.maxBytes} bytes at once over its connections (AIRLOCK_MAX_BUFFERED_BYTES_PER_AGENT)`;
  }
}

/**
 * Connections counted as PostgreSQL counts backends: each socket takes a slot from its first
 * byte, logged in or not, so connections that never log in also run out. An agent's sessions
 * are counted once its token is verified (a name claimed before that proves nothing).
 */
export class ConnectionSlots {
  #open = 0;
  readonly #agents = new Map<string, AgentShare>();

  constructor(private readonly limits: SlotLimits) {}

  /** A slot for a new connection; one over the cap is told so once it has said who it is. */
  open(): ConnectionSlot {
    const admitted = this.#open < this.limits.maxConnections;
    if (admitted) this.#open++;
    let share: AgentShare | undefined;
    let released = false;
    return {
      admit: () => {
        if (!admitted) throw PgWireError.fatal(SqlState.TooManyConnections, `airlock: too many connections (AIRLOCK_MAX_CONNECTIONS is ${this.limits.maxConnections}); try again later`);
      },
      claimAgent: (agentId) => {
        const candidate = this.#agents.get(agentId) ?? new AgentShare(agentId, this.limits.maxBufferedBytesPerAgent);
        if (candidate.connections >= this.limits.maxConnectionsPerAgent) {
          throw PgWireError.fatal(
            SqlState.TooManyConnections,
            `airlock: too many connections for agent "${agentId}" (AIRLOCK_MAX_CONNECTIONS_PER_AGENT is ${this.limits.maxConnectionsPerAgent}); close one first`,
          );
        }
        share = candidate;
        share.connections++;
        this.#agents.set(agentId, share);
        return share;
      },
      release: () => {
        if (released) return;
        released = true;
        if (admitted) this.#open--;
        if (share && --share.connections === 0) this.#agents.delete(share.agentId);
      },
    };
  }

  /** Connections holding a slot now, in all and of one agent (what the caps compare with). */
  get connections(): number {
    return this.#open;
  }

  agentConnections(agentId: string): number {
    return this.#agents.get(agentId)?.connections ?? 0;
  }
}

export interface ConnectionSlot {
  /** Throws 53300 when the connection came over the cap. */
  admit(): void;
  /** Counts the session against its agent's cap (53300 over it); the budget its messages share. */
  claimAgent(agentId: string): ByteBudget;
  /** Gives everything back; safe to call more than once, on every path. */
  release(): void;
}
