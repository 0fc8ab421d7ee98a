import type { types } from "@slack/bolt";
import { accessPhrase } from "../access/label";
import { approveLabel, durationPhrase, grantPhrase, grantShortfall, scopePhrase } from "../approvals/grant-label";
import { heldSql } from "../approvals/held-statements";
import { rowLimitPhrase } from "../approvals/row-limit-phrase";
import type { AccessRequest, RequestDecision } from "../db/schema";
import type { ImpactPreview } from "../approvals/preview/types";
import { previewSection } from "./preview-blocks";
import { stepUpContext } from "./step-up-blocks";
import { clipEscaped, codeBlock, escapeMrkdwn, link, mrkdwn, slackDate } from "./mrkdwn";
import { OWN_AT_ONCE, POST_INTERVAL_MS } from "./throttle";

/** A section's text holds 3,000 characters; the SQL gets most of it, the rest is on the request page. */
export const SQL_PREVIEW_CHARS = 2_500;
/** A field holds 2,000; long lists of tables or groups are cut well before, to keep the message readable. */
export const FIELD_CHARS = 300;

/** The message's content: `text` is what notifications show, `blocks` what the channel shows. */
export interface MessageContent {
  text: string;
  blocks: types.KnownBlock[];
}

/**
 * A request as its Slack message shows it: who, where, what, under which rule, since when, how far;
 * the decision buttons while it is pending, the outcome and who once it is not. Everything that
 * came from an agent or a person is escaped (see mrkdwn.ts).
 */
export function requestMessage(request: AccessRequest, decisions: readonly RequestDecision[], requestUrl: string, preview?: ImpactPreview): MessageContent {
  const approvals = decisions.filter((d) => d.decision === "approve");
  const access = request.kind === "access";
  // A held statement shows its SQL; access asked for up front shows how long and why.
  const what = access ? accessPhrase(request) : `${scopePhrase(request.scope)} on ${request.resource}`;
  const shortfall = access ? undefined : grantShortfall(request.scope);
  const asks = access ? "asks for" : "asks to run";
  const blocks: types.KnownBlock[] = [
    { type: "section", text: mrkdwn(`*${escapeMrkdwn(request.agentId)}* ${asks} *${escapeMrkdwn(what)}* — ${link(requestUrl, `request ${request.id}`)}`) },
    {
      type: "section",
      fields: [
        field("Agent", `${request.agentId} (${request.groups.join(", ")})`),
        field("Resource", request.resource),
        field("Rule", request.rule),
        field("Scope", scopePhrase(request.scope)),
        ...(shortfall ? [field("A grant", shortfall)] : []),
        ...(access ? [field("Duration", durationPhrase(request.durationMs ?? 0))] : []),
        mrkdwn(`*Waiting since*\n${slackDate(request.createdAt)}`),
        field("Approvals", `${approvals.length} of ${request.requiredApprovals}`),
      ],
    },
    { type: "section", text: mrkdwn(access ? reasonText(request) : sqlText(request, requestUrl)) },
    ...(preview ? [previewSection(preview)] : []),
    { type: "context", elements: [mrkdwn(outcomeLine(request, decisions))] },
  ];
  const stepUp = stepUpContext(request, requestUrl);
  if (stepUp) blocks.push(stepUp);
  if (request.status === "pending") blocks.push(decisionButtons(request));
  const headline = request.status === "pending" ? `${request.agentId} ${asks} ${what}` : `${request.agentId}'s ${what}: ${outcomeText(request, decisions)}`;
  return { text: escapeMrkdwn(`Airlock ${request.id}: ${headline}`), blocks };
}

function sqlText(request: AccessRequest, requestUrl: string): string {
  const sql = codeBlock(heldSql(request.statements), SQL_PREVIEW_CHARS);
  return sql.clipped ? `${sql.text}\n_Shortened: ${link(requestUrl, "the full SQL is on the request page")}_` : sql.text;
}

function reasonText(request: AccessRequest): string {
  return request.reason ? `*Reason*\n${clipEscaped(request.reason, SQL_PREVIEW_CHARS).text}` : "_No reason given_";
}

/** What became of the request, or how far it is, with who decided and when. */
function outcomeLine(request: AccessRequest, decisions: readonly RequestDecision[]): string {
  const when = request.decidedAt ? ` at ${slackDate(request.decidedAt)}` : "";
  const approvals = decisions.filter((d) => d.decision === "approve");
  switch (request.status) {
    case "pending": {
      const needed = `${request.requiredApprovals - approvals.length} more approval(s) from ${request.approverGroups.join(", ")}`;
      return escapeMrkdwn(approvals.length > 0 ? `Approved so far by ${names(approvals)}; waiting for ${needed}` : `Waiting for ${needed}`);
    }
    case "approved":
      return `:white_check_mark: *Approved* by ${escapeMrkdwn(names(approvals))}${when}`;
    case "denied":
      return `:no_entry: *Denied* by ${escapeMrkdwn(names(decisions.filter((d) => d.decision === "deny")))}${when}: ${escapeMrkdwn(request.outcomeReason ?? "no reason given")}`;
    case "expired":
      return `:hourglass: *Expired*${when}: nobody decided in time`;
    case "cancelled":
      return `:heavy_minus_sign: *Cancelled*${when}: ${escapeMrkdwn(request.outcomeReason ?? "cancelled")}`;
  }
}

/** The outcome in plain words, for notifications. */
function outcomeText(request: AccessRequest, decisions: readonly RequestDecision[]): string {
  const by = (decision: RequestDecision["decision"]) => decisions.filter((d) => d.decision === decision).map((d) => d.personEmail).join(", ");
  if (request.status === "approved") return `approved by ${by("approve")}`;
  if (request.status === "denied") return `denied by ${by("deny")}`;
  return request.status;
}

function names(decisions: readonly RequestDecision[]): string {
  return decisions.map((d) => `${d.personEmail} (${d.via === "slack" ? "Slack" : "web"}${d.decision === "approve" ? `, ${grantPhrase(d.grantMs)}${d.maxRows != null ? `, ${rowLimitPhrase(d.maxRows)}` : ""}` : ""})`).join(", ");
}

function field(label: string, value: string): types.MrkdwnElement {
  return mrkdwn(`*${label}*\n${clipEscaped(value, FIELD_CHARS).text}`);
}

const ACTION_APPROVE = "airlock.approve.";
const ACTION_DENY = "airlock.deny";

/** Approve once, approve for each duration the rule offers, deny; each button carries the request id. */
function decisionButtons(request: AccessRequest): types.ActionsBlock {
  return {
    type: "actions",
    block_id: "airlock.decide",
    elements: [
      ...request.grantOptions.map((option): types.Button => ({
        type: "button",
        text: { type: "plain_text", text: approveLabel(option) },
        action_id: `${ACTION_APPROVE}${option}`,
        value: request.id,
        ...(option === "once" ? { style: "primary" as const } : {}),
      })),
      { type: "button", text: { type: "plain_text", text: "Deny" }, action_id: ACTION_DENY, value: request.id, style: "danger" },
    ],
  };
}

export type Button = { requestId: string; action: "approve"; grant: "once" | number } | { requestId: string; action: "deny" };

/** A pressed button, read back; undefined for anything Airlock did not put in a message. */
export function readButton(actionId: string, value: string | undefined): Button | undefined {
  if (!value || !/^r_[0-9a-f]+$/.test(value)) return undefined;
  if (actionId === ACTION_DENY) return { requestId: value, action: "deny" };
  const grant = actionId.startsWith(ACTION_APPROVE) ? actionId.slice(ACTION_APPROVE.length) : undefined;
  if (grant === "once") return { requestId: value, action: "approve", grant };
  if (grant && /^[1-9]\d{0,12}$/.test(grant)) return { requestId: value, action: "approve", grant: Number(grant) };
  return undefined;
}

/**
 * An agent's summary of a burst (lib/slack/throttle): how many of its requests wait unposted, and
 * the queue, where each can be decided. No buttons: one click must never decide many requests.
 */
export function rollupMessage(agentId: string, waiting: number, queueUrl: string): MessageContent {
  const agent = escapeMrkdwn(agentId);
  const requests = `${waiting} more request${waiting === 1 ? "" : "s"}`;
  const text =
    waiting > 0
      ? `…and *${requests}* from *${agent}* — ${link(queueUrl, "open the queue")} to decide them`
      : `No more of *${agent}*'s rolled-up requests are waiting: each was decided, expired or was cancelled — ${link(queueUrl, "the queue")}`;
  return {
    text: escapeMrkdwn(waiting > 0 ? `Airlock: and ${requests} from ${agentId}` : `Airlock: no more rolled-up requests from ${agentId}`),
    blocks: [
      { type: "section", text: mrkdwn(text) },
      { type: "context", elements: [mrkdwn(`With ${OWN_AT_ONCE} or more of an agent's requests waiting, Airlock posts at most one more of them every ${POST_INTERVAL_MS / 1000} s; the rest are counted here as they come and go.`)] },
    ],
  };
}
