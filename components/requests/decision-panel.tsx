"use client";

import { useActionState } from "react";
import type { DecisionResult } from "@/app/(console)/requests/actions";
import { ActionOutcome } from "@/components/action-outcome";

/**
 * Approve once, approve for a duration the rule offers (`approvals`: the buttons), or deny with a
 * reason. Access asked for up front (`askedDuration`) is approved for a length the approver may
 * shorten instead.
 */
export function DecisionPanel({
  requestId,
  approvals,
  askedDuration,
  rowLimit,
  shorterThan,
  action,
}: {
  requestId: string;
  approvals: Array<{ value: string; label: string }>;
  /** "15m": the length the agent asked for, editable down. */
  askedDuration?: string;
  /** A held write: the approver may cap the rows it changes ("at most N rows"). */
  rowLimit?: boolean;
  /** "1h": the longest grant the rule offers a held statement; the approver may type a shorter one. */
  shorterThan?: string;
  action: (previous: DecisionResult | undefined, form: FormData) => Promise<DecisionResult>;
}) {
  const [result, submit, pending] = useActionState(action, undefined);
  return (
    <section className="panel decision" aria-labelledby="decide-title">
      <h2 id="decide-title">Decide</h2>
      <form action={submit} className="decision-form">
        <input type="hidden" name="requestId" value={requestId} />
        {askedDuration ? (
          <>
            <label htmlFor="duration">Duration (asked: {askedDuration}; you may shorten it)</label>
            <div className="decision-duration">
              <input id="duration" name="duration" defaultValue={askedDuration} pattern="\s*\d+\s*[smhd]\s*" required />
              <button className="button button-primary" type="submit" name="decision" value="approve:duration" disabled={pending}>
                Approve
              </button>
            </div>
          </>
        ) : (
          <div className="decision-buttons">
            {approvals.map(({ value, label }) => (
              <button key={value} className="button button-primary" type="submit" name="decision" value={value} disabled={pending}>
                {label}
              </button>
            ))}
          </div>
        )}
        {shorterThan && !askedDuration && (
          <>
            <label htmlFor="duration">Or grant for a shorter time (up to {shorterThan})</label>
            <div className="decision-duration">
              <input id="duration" name="duration" placeholder="e.g. 5m" pattern="\s*\d+\s*[smhd]\s*" />
              <button className="button" type="submit" name="decision" value="approve:duration" disabled={pending}>
                Approve for this time
              </button>
            </div>
          </>
        )}
        {rowLimit && (
          <>
            <label htmlFor="maxRows">At most N rows (optional: if it changes more, Airlock rolls it back and the agent gets an error)</label>
            <input id="maxRows" name="maxRows" inputMode="numeric" pattern="\s*\d{0,10}\s*" placeholder="no limit" />
          </>
        )}
        <label htmlFor="reason">Reason (shown to the agent if you deny)</label>
        <input id="reason" name="reason" maxLength={1000} />
        <button className="button button-danger" type="submit" name="decision" value="deny" disabled={pending}>
          Deny
        </button>
      </form>
      <ActionOutcome result={result} />
    </section>
  );
}
