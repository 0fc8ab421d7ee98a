import type { types } from "@slack/bolt";
import type { AccessRequest } from "../db/schema";
import { codeBlock, escapeMrkdwn, mrkdwn } from "./mrkdwn";

export const DENY_CALLBACK_ID = "airlock.deny";
/** The same limit as the web form's reason. */
export const REASON_MAX_CHARS = 1000;
/** Enough SQL to know which request this is; the message above it has the rest. */
const MODAL_SQL_CHARS = 600;
const REASON_BLOCK = "reason";

/** The modal Deny opens: the request in brief, and the reason, which the agent is shown. */
export function denyModal(request: AccessRequest): types.ModalView {
  return {
    type: "modal",
    callback_id: DENY_CALLBACK_ID,
    private_metadata: request.id,
    title: { type: "plain_text", text: "Deny request" },
    submit: { type: "plain_text", text: "Deny" },
    close: { type: "plain_text", text: "Cancel" },
    blocks: [
      { type: "section", text: mrkdwn(`*${escapeMrkdwn(request.agentId)}* on *${escapeMrkdwn(request.resource)}* (${request.id})\n${codeBlock(request.statements.map((s) => s.text).join(";\n"), MODAL_SQL_CHARS).text}`) },
      {
        type: "input",
        block_id: REASON_BLOCK,
        label: { type: "plain_text", text: "Reason (shown to the agent)" },
        element: { type: "plain_text_input", action_id: REASON_BLOCK, multiline: true, max_length: REASON_MAX_CHARS },
      },
    ],
  };
}

/**
 * The submitted modal, read back: which request and why; undefined when it is not one of ours.
 * The payload is whatever a signed request carried, so every field is checked for its type before use.
 */
export function readDenial(view: unknown): { requestId: string; reason: string } | undefined {
  const requestId = field(view, "private_metadata");
  const reason = field(field(field(field(field(view, "state"), "values"), REASON_BLOCK), REASON_BLOCK), "value");
  if (typeof requestId !== "string" || !/^r_[0-9a-f]+$/.test(requestId) || typeof reason !== "string") return undefined;
  const trimmed = reason.trim();
  if (!trimmed || trimmed.length > REASON_MAX_CHARS) return undefined;
  return { requestId, reason: trimmed };
}

/** An own property of an object, or undefined for anything else (null, an array's "length", a string's). */
function field(value: unknown, key: string): unknown {
  return typeof value === "object" && value !== null && !Array.isArray(value) && Object.hasOwn(value, key) ? (value as Record<string, unknown>)[key] : undefined;
}

/** Where a problem with the submission is shown: under the reason field. */
export function reasonError(message: string): { response_action: "errors"; errors: Record<string, string> } {
  return { response_action: "errors", errors: { [REASON_BLOCK]: message } };
}
