import { MessageBuffer, type ByteBudget, type MessageLimit, type WireMessage } from "./protocol/message-buffer";
import { Frontend } from "./protocol/message-codes";

/** Largest message an authenticated agent may send at all (PostgreSQL's own limit is 1 GiB). */
export const MAX_CLIENT_MESSAGE_BYTES = 256 * 1024 * 1024;

/** Messages that carry SQL text: held to the statement limit, far below what a Bind may carry. */
const STATEMENT_TYPES = new Set<number>([Frontend.Query, Frontend.Parse]);
/** Each of these gets exactly one ReadyForQuery from the server. */
const SYNC_POINTS = new Set<number>([Frontend.Query, Frontend.Sync, Frontend.FunctionCall]);

/**
 * Sizes by type: a statement (Query, Parse) up to `maxStatementBytes`; anything else (a Bind's
 * parameters, CopyData) up to what the agent's budget could ever hold.
 */
export function agentMessageLimit(maxStatementBytes: number, maxBufferedBytes: number): MessageLimit {
  const other = Math.min(MAX_CLIENT_MESSAGE_BYTES, maxBufferedBytes);
  return {
    maxBytes: (type) => (STATEMENT_TYPES.has(type) ? maxStatementBytes : other),
    refusal(type, bytes, max) {
      const name = type === Frontend.Query ? "Query" : type === Frontend.Parse ? "Parse" : `"${String.fromCharCode(type)}"`;
      const setting = STATEMENT_TYPES.has(type) ? "AIRLOCK_MAX_STATEMENT_BYTES" : max < MAX_CLIENT_MESSAGE_BYTES ? "AIRLOCK_MAX_BUFFERED_BYTES_PER_AGENT" : "the proxy's own limit";
      return `airlock: a ${name} message of ${bytes} bytes is over the limit of ${max} bytes (${setting})`;
    },
  };
}

/**
 * The agent's messages after login, framed under its limits and budget. It also counts the
 * messages the server answers with ReadyForQuery, for telling an idle session from a busy one.
 */
export class AgentMessages extends MessageBuffer {
  #syncPoints = 0;

  constructor(limit: MessageLimit, budget: ByteBudget) {
    super(limit, budget);
  }

  override next(): WireMessage | undefined {
    const message = super.next();
    if (message && SYNC_POINTS.has(message.type)) this.#syncPoints++;
    return message;
  }

  /** Query, Sync and FunctionCall messages taken so far. */
  get syncPoints(): number {
    return this.#syncPoints;
  }
}
