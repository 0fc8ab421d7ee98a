import type { Role } from "../identity/roles";

/** Everything that changes what someone watching the dashboard should see. Grows per feature. */
export type AirlockEvent =
  | { type: "person.signed_in"; email: string; role: Role; at: string }
  /** Ends that person's live sockets (server/live-socket.ts); never sent to a browser. */
  | { type: "person.signed_out"; email: string }
  | { type: "session.opened" | "session.closed"; sessionId: string; agentId: string; resource: string }
  | { type: "activity.recorded"; sessions: number; statements: number }
  | { type: "policy.changed"; ok: boolean }
  | { type: "request.changed"; requestId: string; status: string }
  | { type: "grant.changed"; grantId: string }
  | { type: "slack.changed"; requestId: string };

export type Listener = (event: AirlockEvent) => void;

/**
 * In-process publish/subscribe. A failing listener is logged and skipped: one broken browser
 * socket must never stop an event reaching the others, nor the code that published it.
 */
export class EventBus {
  readonly #listeners = new Set<Listener>();

  subscribe(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  publish(event: AirlockEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch (err) {
        console.error("[events] listener failed:", err);
      }
    }
  }

  get size(): number {
    return this.#listeners.size;
  }
}
