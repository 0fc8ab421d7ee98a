import { Backend } from "./protocol/message-codes";

/** What the agent is owed an answer for, in the order it asked. */
export type Expected =
  | { kind: "query"; statement: PendingStatement }
  | { kind: "execute"; statement: PendingStatement }
  | { kind: "parse" | "bind" | "close" | "describe-statement" | "describe-portal" }
  | { kind: "sync" }
  /** Bytes the proxy answers with itself, released once everything before them is answered. */
  | { kind: "reply"; bytes: Buffer; statement?: PendingStatement };

export interface PendingStatement {
  text: string;
  params: Array<string | null> | undefined;
  protocol: "simple" | "extended";
  startedAt: number;
  rows: number;
  outcome: "ok" | "error" | "refused";
  errorCode?: string;
  errorMessage?: string;
}

export interface TrackerEvents {
  /** A statement has its final answer (success, error or refusal). */
  finished(statement: PendingStatement): void;
  /** Proxy-made bytes whose turn has come. */
  emit(bytes: Buffer): void;
}

/**
 * Matches the server's responses to the agent's requests, so that the proxy knows when each
 * statement ends and can slot its own answers (refusals) into the stream at the right place.
 * Mirrors the server's rules: after an error in the extended protocol, everything up to Sync is
 * skipped. https://www.postgresql.org/docs/current/protocol-flow.html#PROTOCOL-FLOW-EXT-QUERY
 */
export class ResponseTracker {
  #queue: Expected[] = [];
  #head = 0;

  constructor(private readonly events: TrackerEvents) {}

  expect(item: Expected): void {
    // A reply with nothing ahead of it goes out at once.
    if (item.kind === "reply" && this.#head === this.#queue.length) return this.#release(item);
    this.#queue.push(item);
  }

  get pending(): number {
    return this.#queue.length - this.#head;
  }

  /** Feeds one server message; `tag` is read by the caller only for CommandComplete. */
  onServerMessage(type: number, tag?: number, error?: { code?: string; message?: string }): void {
    const head = this.#peek();
    if (!head) return;
    switch (type) {
      case Backend.CommandComplete:
        if (head.kind === "query") head.statement.rows += tag ?? 0;
        else if (head.kind === "execute") {
          head.statement.rows += tag ?? 0;
          this.#complete();
        }
        return;
      case Backend.EmptyQueryResponse:
      case Backend.PortalSuspended:
        if (head.kind === "execute") this.#complete();
        return;
      case Backend.ParseComplete:
        return this.#completeIf(head, "parse");
      case Backend.BindComplete:
        return this.#completeIf(head, "bind");
      case Backend.CloseComplete:
        return this.#completeIf(head, "close");
      case Backend.RowDescription:
      case Backend.NoData:
        if (head.kind === "describe-statement" || head.kind === "describe-portal") this.#complete();
        return;
      case Backend.ErrorResponse:
        return this.#onError(head, error);
      case Backend.ReadyForQuery:
        if (head.kind === "query" || head.kind === "sync") this.#complete();
        return;
      default:
        return; // DataRow, notices, notifications, parameter status, COPY traffic: no step ends
    }
  }

  #onError(head: Expected, error?: { code?: string; message?: string }): void {
    if (head.kind === "query") {
      Object.assign(head.statement, { outcome: "error", errorCode: error?.code, errorMessage: error?.message });
      return; // ReadyForQuery still follows
    }
    if (head.kind === "execute") Object.assign(head.statement, { outcome: "error", errorCode: error?.code, errorMessage: error?.message });
    // The server now skips to Sync: nothing queued before it will be answered, our own replies neither.
    while (this.#peek() && this.#peek()!.kind !== "sync") {
      const skipped = this.#queue[this.#head++];
      if (skipped.kind === "execute" && skipped !== head) Object.assign(skipped.statement, { outcome: "error", errorCode: "skipped" });
      if (skipped.kind === "execute" || (skipped.kind === "reply" && skipped.statement)) this.events.finished(statementOf(skipped)!);
    }
    this.#compact();
  }

  #completeIf(head: Expected, kind: Expected["kind"]): void {
    if (head.kind === kind) this.#complete();
  }

  #complete(): void {
    const done = this.#queue[this.#head++];
    const statement = statementOf(done);
    if (statement) this.events.finished(statement);
    // Replies that were waiting for this answer go out now.
    for (let next = this.#peek(); next?.kind === "reply"; next = this.#peek()) {
      this.#head++;
      this.#release(next);
    }
    this.#compact();
  }

  #release(reply: Extract<Expected, { kind: "reply" }>): void {
    this.events.emit(reply.bytes);
    if (reply.statement) this.events.finished(reply.statement);
  }

  #peek(): Expected | undefined {
    return this.#head < this.#queue.length ? this.#queue[this.#head] : undefined;
  }

  #compact(): void {
    if (this.#head === this.#queue.length) {
      this.#queue = [];
      this.#head = 0;
    } else if (this.#head > 1024) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
  }
}

function statementOf(item: Expected): PendingStatement | undefined {
  return item.kind === "query" || item.kind === "execute" || item.kind === "reply" ? item.statement : undefined;
}
