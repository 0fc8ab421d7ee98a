"use client";

import Link from "next/link";
import { useActionState } from "react";
import type { ActionResult } from "@/components/action-outcome";
import { ActionOutcome } from "@/components/action-outcome";
import type { ShownRow, UndoView } from "@/lib/approvals/undo/view";

const UNDONE = { update: "puts back the values it changed", delete: "inserts the deleted rows again", insert: "deletes the rows it inserted" } as const;

/**
 * An approved write's undo (lib/approvals/undo): what was captured, masked, and Revert — which
 * asks for a revert request that another approver decides. On a revert request's own page: what
 * it restores, and how it went.
 */
export function UndoPanel({ view, mayAsk, action }: { view: UndoView; mayAsk: boolean; action: (previous: ActionResult | undefined, form: FormData) => Promise<ActionResult> }) {
  const [result, submit, pending] = useActionState(action, undefined);
  if (!("originalId" in view)) {
    return (
      <section className="section panel" aria-labelledby="undo-title" data-testid="undo">
        <h2 id="undo-title">Undo</h2>
        <p className="muted">No undo: {view.unavailable}</p>
      </section>
    );
  }
  const rows = view.rowCount === 1 ? "1 row" : `${view.rowCount} rows`;
  return (
    <section className="section panel" aria-labelledby="undo-title" data-testid="undo">
      <h2 id="undo-title">{view.of === "revert" ? "What this revert restores" : "Undo"}</h2>
      {view.of === "revert" ? (
        <p>
          Reverts request <Link href={`/requests/${view.originalId}`}>{view.originalId}</Link>: {UNDONE[view.kind]} — {rows} of <code>{view.table}</code>. Any row changed
          since is refused and named, and then nothing is restored.
        </p>
      ) : (
        <p>
          Captured {rows} of <code>{view.table}</code>, kept until {view.expiresAt.toISOString().slice(0, 16).replace("T", " ")} UTC. A revert {UNDONE[view.kind]}.
        </p>
      )}
      {view.revert && view.of === "write" && (
        <p>
          Revert: <Link href={`/requests/${view.revert.id}`}>{view.revert.id}</Link> ({view.revert.status})
        </p>
      )}
      {view.outcome && <p data-testid="undo-outcome">Revert {view.outcome}.</p>}
      {view.rows ? <Rows rows={view.rows} total={view.rowCount} /> : !view.outcome && <p className="muted">The captured values were deleted (expired).</p>}
      {view.of === "write" && mayAsk && !view.whyNoRevert && (
        <form action={submit}>
          <input type="hidden" name="requestId" value={view.originalId} />
          <button className="button" type="submit" disabled={pending}>
            Revert
          </button>
        </form>
      )}
      <ActionOutcome result={result} />
    </section>
  );
}

function Rows({ rows, total }: { rows: ShownRow[]; total: number }) {
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r.before ?? r.after ?? {})))];
  return (
    <table className="table small" data-testid="undo-rows">
      <caption className="muted">
        {rows.length < total ? `The first ${rows.length} of ${total} rows` : "The rows"}, as they were → as the write left them, masked as the agent would read them
      </caption>
      <thead>
        <tr>
          <th>key</th>
          {columns.map((c) => (
            <th key={c}>{c}</th>
          ))}
        </tr>
      </thead>
      <tbody>
        {rows.map((row) => (
          <tr key={row.key}>
            <td>
              <code>{row.key}</code>
            </td>
            {columns.map((c) => (
              <td key={c}>{cell(row, c)}</td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function cell(row: ShownRow, column: string): string {
  const show = (v: string | null | undefined) => (v === null ? "NULL" : (v ?? ""));
  if (!row.before) return `(new) ${show(row.after?.[column])}`;
  if (!row.after) return `${show(row.before[column])} (deleted)`;
  const before = row.before[column];
  const after = row.after[column];
  return before === after ? show(before) : `${show(before)} → ${show(after)}`;
}
