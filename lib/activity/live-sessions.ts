import type { EventBus } from "../events/bus";
import type { BoundedText } from "./statement-text";

/** An agent connection open right now, as the Sessions page shows it. */
export interface LiveSession {
  id: string;
  agentId: string;
  groups: readonly string[];
  resource: string;
  clientAddress: string | undefined;
  startedAt: Date;
  statementCount: number;
  /** As stored: at most a prefix, with the whole length and hash when cut. */
  lastStatement: (BoundedText & { at: Date }) | undefined;
}

/** The proxy's open sessions, in memory; the store keeps the history. */
export class LiveSessions {
  readonly #sessions = new Map<string, LiveSession>();

  constructor(private readonly bus?: EventBus) {}

  open(session: Omit<LiveSession, "statementCount" | "lastStatement">): LiveSession {
    const live: LiveSession = { ...session, statementCount: 0, lastStatement: undefined };
    this.#sessions.set(live.id, live);
    this.bus?.publish({ type: "session.opened", sessionId: live.id, agentId: live.agentId, resource: live.resource });
    return live;
  }

  close(id: string): void {
    const live = this.#sessions.get(id);
    if (!live) return;
    this.#sessions.delete(id);
    this.bus?.publish({ type: "session.closed", sessionId: id, agentId: live.agentId, resource: live.resource });
  }

  list(): LiveSession[] {
    return [...this.#sessions.values()].sort((a, b) => b.startedAt.getTime() - a.startedAt.getTime());
  }

  get size(): number {
    return this.#sessions.size;
  }
}
