import { TimeAgo } from "@/components/ui/time-ago";
import { grantPhrase } from "@/lib/approvals/grant-label";
import { rowLimitPhrase } from "@/lib/approvals/row-limit-phrase";
import type { RequestDecision, RequestFollowUp } from "@/lib/db/schema";

type Step = { at: Date; key: string } & ({ decision: RequestDecision } | { followUp: RequestFollowUp });

/** A request's decisions, reminders and escalation, oldest first: what happened while it waited, in order. */
export function RequestHistory({ decisions, followUps, now }: { decisions: readonly RequestDecision[]; followUps: readonly RequestFollowUp[]; now: Date }) {
  const steps: Step[] = [...decisions.map((d) => ({ at: d.at, key: `d${d.id}`, decision: d })), ...followUps.map((f) => ({ at: f.at, key: `f${f.id}`, followUp: f }))];
  steps.sort((a, b) => a.at.getTime() - b.at.getTime());
  if (steps.length === 0) return <p className="muted">None yet.</p>;
  return (
    <ol className="history">
      {steps.map((step) => (
        <li key={step.key} data-testid={"decision" in step ? "history-decision" : `history-${step.followUp.kind}`}>
          {"decision" in step ? <Decision d={step.decision} now={now} /> : <FollowUp f={step.followUp} now={now} />}
        </li>
      ))}
    </ol>
  );
}

function Decision({ d, now }: { d: RequestDecision; now: Date }) {
  return (
    <>
      <strong>{d.personEmail}</strong> {d.decision === "approve" ? `approved ${grantPhrase(d.grantMs)}${d.maxRows !== null ? `, ${rowLimitPhrase(d.maxRows)}` : ""}` : "denied"} via {d.via} <TimeAgo at={d.at} now={now} />
      {d.authAt && (
        <span className="muted" data-testid="stepped-up">
          {" "}
          (step-up: signed in at <time dateTime={d.authAt.toISOString()}>{d.authAt.toISOString()}</time>)
        </span>
      )}
      {d.reason && <> — “{d.reason}”</>}
    </>
  );
}

function FollowUp({ f, now }: { f: RequestFollowUp; now: Date }) {
  return f.kind === "reminder" ? (
    <>
      <strong>Reminder {f.seq}</strong> to {f.groups.join(", ")} <TimeAgo at={f.at} now={now} />
    </>
  ) : (
    <>
      <strong>Escalated</strong> to {f.groups.join(", ")}
      {f.channel && <> (Slack {f.channel})</>} <TimeAgo at={f.at} now={now} />: they may decide too
    </>
  );
}
