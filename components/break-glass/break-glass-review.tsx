"use client";

import { useActionState } from "react";
import type { ReviewResult } from "@/app/(console)/break-glass/actions";
import { ActionOutcome } from "@/components/action-outcome";

/** A break-glass use waiting for review: what was taken and why, and (for those who may) the note that closes it. */
export function BreakGlassReview({
  use,
  canReview,
  action,
}: {
  use: { id: string; agentId: string; resource: string; reason: string | null; duration: string; createdAt: string };
  canReview: boolean;
  action: (previous: ReviewResult | undefined, form: FormData) => Promise<ReviewResult>;
}) {
  const [result, submit, pending] = useActionState(action, undefined);
  return (
    <li className="panel break-glass-item" data-testid="break-glass-item" aria-label={`break-glass ${use.id}`}>
      <p>
        <strong className="badge-danger">Break-glass</strong> {use.agentId} took {use.duration} of emergency access to {use.resource} at{" "}
        <time dateTime={use.createdAt}>{use.createdAt}</time>, without approval. Reason: {use.reason ?? "none given"}. <code>{use.id}</code>
      </p>
      {canReview && (
        <form action={submit} className="decision-form">
          <input type="hidden" name="id" value={use.id} />
          <label htmlFor={`note-${use.id}`}>Review note (what was done, and whether it was right)</label>
          <textarea id={`note-${use.id}`} name="note" maxLength={2000} required />
          <button className="button button-primary" type="submit" disabled={pending}>
            Mark reviewed
          </button>
        </form>
      )}
      <ActionOutcome result={result} />
    </li>
  );
}
