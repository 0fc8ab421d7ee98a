import type { Role } from "../identity/roles";

/** Everything that changes what someone watching the dashboard should see. Grows per feature. */
export type AirlockEvent =
  | { type: "person.signed_in"; email: string; role: Role; at: string }
  /** The IdP answered but Airlock refused (a SAML response failing a check): recorded, no session made. */
  | { type: "person.sign_in_refused"; id: string; method: "saml"; code: string; reason: string; at: string }
  /** Ends that person's live sockets (server/live-socket.ts); never sent to a browser. */
  | { type: "person.signed_out"; email: string }
  | { type: "session.opened" | "session.closed"; sessionId: string; agentId: string; resource: string }
  /** A CancelRequest that reached an instance other than the session's (proxy/cancel-keys.ts); never sent to a browser. */
  | { type: "session.cancel_requested"; processId: number; digest: string }
  | { type: "activity.recorded"; sessions: number; statements: number }
  | { type: "policy.changed"; ok: boolean }
  | { type: "request.changed"; requestId: string; status: string }
  /** A waiting request's approvers were reminded, or it escalated (lib/approvals/follow-ups.ts): `groups` are those nudged. */
  | { type: "request.reminded" | "request.escalated"; requestId: string; groups: string[] }
  /** A decision on a step-up request refused because the person's sign-in was too old or unknown (lib/approvals/step-up.ts). */
  | { type: "request.step_up_refused"; id: string; requestId: string; email: string; action: "approve" | "deny"; via: "web" | "slack"; signIn: { method: "oidc" | "saml"; at: string | null } | null; reason: string; at: string }
  | { type: "grant.changed"; grantId: string }
  /** A break-glass use was taken or reviewed (lib/access/break-glass.ts). */
  | { type: "break_glass.changed"; id: string }
  | { type: "slack.changed"; requestId: string };

export type Listener = (event: AirlockEvent) => void;

/**
 * Carries events between the processes sharing one store. Today the events table on SQLite
 * (store-transport.ts); with a PostgreSQL store, LISTEN/NOTIFY behind this same interface, so no
 * caller of the bus changes. An event is delivered everywhere at most once per process; where it
 * came from does not matter to a listener. Events carry ids and states only, well under a NOTIFY
 * payload's 8000 bytes: whatever a listener needs beyond that it reads back from the store.
 */
export interface EventTransport {
  /** Begins handing other processes' events to `deliver`. */
  start(deliver: (event: AirlockEvent) => void): void;
  /** Passes one of this process's events on to the others. */
  send(event: AirlockEvent): void;
  close(): void;
}

/**
 * Publish/subscribe within the process and, with a transport, across the processes on one store.
 * A failing listener is logged and skipped: one broken browser socket must never stop an event
 * reaching the others, nor the code that published it.
 */
export class EventBus {
  readonly #listeners = new Set<Listener>();

  constructor(private readonly transport?: EventTransport) {
    transport?.start((event) => this.#deliver(event));
  }

  subscribe(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  publish(event: AirlockEvent): void {
    // Here first: a listener that writes what others will read back (a session snapshot) is done before they hear.
    this.#deliver(event);
    try {
      this.transport?.send(event);
    } catch (err) {
      console.error("[events] could not pass an event to other processes:", err);
    }
  }

  close(): void {
    this.transport?.close();
  }

  get size(): number {
    return this.#listeners.size;
  }

  #deliver(event: AirlockEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch (err) {
        console.error("[events] listener failed:", err);
      }
    }
  }
}
