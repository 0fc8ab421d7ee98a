import { randomBytes } from "node:crypto";
import type { StoreScope } from "../../db/client";
import type { AccessRequest, RequestUndo } from "../../db/schema";
import { columnMasked, hasMasking, requesterMask } from "../../masking/masking";
import { createMasker } from "../../masking/strategies";
import type { DetectorName } from "../../masking/detectors";
import type { MaskOptions, Policy } from "../../policy/policy-file";
import type { ApprovalService } from "../service";
import { keyOf } from "./exact";
import { whyNoRevert } from "./revert";
import { undoOf, undoOfRevert } from "./store";
import type { CapturedRow } from "./types";

/** A captured row as the page shows it: its key, and its values masked. */
export interface ShownRow {
  key: string;
  before?: Record<string, string | null>;
  after?: Record<string, string | null>;
}

/** What the request page says of an undo: of the write itself, or of a revert request. */
export type UndoView =
  | { of: "write"; unavailable: string }
  | {
      of: "write" | "revert";
      /** The write this undoes (for a revert request). */
      originalId: string;
      table: string;
      kind: NonNullable<RequestUndo["kind"]>;
      rowCount: number;
      expiresAt: Date;
      /** Null once pruned (expired) or used. */
      rows: ShownRow[] | null;
      revert?: { id: string; status: AccessRequest["status"] };
      outcome: string | null;
      /** For the write's page: why it cannot be reverted now (undefined: the button is offered). */
      whyNoRevert?: string;
    };

/** Shown rows at most: the page is for people; the revert restores every row. */
export const SHOWN_ROWS = 50;

/**
 * The undo of a request for its page, or undefined when there is none to speak of. The values
 * are masked as the agent's own reads would be, and more: a masked column shows redacted, and the
 * policy's detectors redact what they find in the others. Nobody sees a captured value the agent
 * that changed it could not have read.
 */
export async function undoView(scope: StoreScope, approvals: ApprovalService, policy: Policy, request: AccessRequest): Promise<UndoView | undefined> {
  const asWrite = await undoOf(scope, request.id);
  const undo = asWrite ?? (await undoOfRevert(scope, request.id));
  if (!undo) return undefined;
  if (undo.unavailable || !undo.kind || !undo.target) return { of: "write", unavailable: undo.unavailable ?? "nothing was captured" };
  const original = asWrite ? request : await approvals.get(undo.requestId);
  const revert = undo.revertRequestId ? await approvals.get(undo.revertRequestId) : undefined;
  const mask = original ? requesterMask(policy, { agentId: original.agentId, groups: original.groups, resource: original.resource }) : undefined;
  return {
    of: asWrite ? "write" : "revert",
    originalId: undo.requestId,
    table: undo.target.name,
    kind: undo.kind,
    rowCount: undo.rowCount,
    expiresAt: undo.expiresAt,
    rows: undo.rows && shownRows(undo.rows.slice(0, SHOWN_ROWS), undo.target, mask),
    revert: revert && { id: revert.id, status: revert.status },
    outcome: undo.revertOutcome,
    whyNoRevert: asWrite ? whyNoRevert(request, undo, revert) : undefined,
  };
}

function shownRows(rows: CapturedRow[], target: NonNullable<RequestUndo["target"]>, mask: MaskOptions | undefined): ShownRow[] {
  // Redaction needs no key; a fresh one keeps a hash strategy from matching the agent's hashes.
  const masker = hasMasking(mask) ? createMasker({ strategy: "redact", detectors: [...new Set(mask.detect)] as DetectorName[], hashKey: randomBytes(32) }) : undefined;
  const show = (values: Record<string, unknown> | undefined) => {
    if (!values) return undefined;
    const out: Record<string, string | null> = {};
    for (const [column, value] of Object.entries(values)) {
      const text = value === null ? null : typeof value === "string" ? value : JSON.stringify(value);
      if (text === null || !masker || !mask) out[column] = text;
      else out[column] = columnMasked(mask.columns, `${target.name}.${column}`) ? masker.maskValue(text) : masker.maskFindings(text);
    }
    return out;
  };
  // A key whose column policy masks is not shown either: the rows are numbered instead.
  const keyMasked = !!mask && target.key.some((k) => columnMasked(mask.columns, `${target.name}.${k}`));
  return rows.map((r, i) => ({ key: keyMasked ? `row ${i + 1}` : keyOf(target, (r.before ?? r.after)!), before: show(r.before), after: show(r.after) }));
}
