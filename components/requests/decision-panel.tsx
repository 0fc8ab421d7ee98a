"use client";

import { useActionState } from "react";
import type { DecisionResult } from "@/app/(console)/requests/actions";

/** Approve once, approve for a duration the rule offers (`approvals`: the buttons), or deny with a reason. */
export function DecisionPanel({
  requestId,
  approvals,
  action,
}: {
  requestId: string;
  approvals: Array<{ value: string; label: string }>;
  action: (previous: DecisionResult | undefined, form: FormData) => Promise<DecisionResult>;
}) {
  const [result, submit, pending] = useActionState(action, undefined);
  return (
    <section className="panel decision" aria-labelledby="decide-title">
      <h2 id="decide-title">Decide</h2>
      <form action={submit} className="decision-form">
        <input type="hidden" name="requestId" value={requestId} />
        <div className="decision-buttons">
          {approvals.map(({ value, label }) => (
            <button key={value} className="button button-primary" type="submit" name="decision" value={value} disabled={pending}>
              {label}
            </button>
          ))}
        </div>
        <label htmlFor="reason">Reason (shown to the agent if you deny)</label>
        <input id="reason" name="reason" maxLength={1000} />
        <button className="button button-danger" type="submit" name="decision" value="deny" disabled={pending}>
          Deny
        </button>
      </form>
      {result && (
        <p className={result.ok ? "notice" : "alert"} role={result.ok ? "status" : "alert"}>
          {result.ok ? result.message : result.error}
        </p>
      )}
    </section>
  );
}
