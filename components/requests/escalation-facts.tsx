import { escalatesAt } from "@/lib/approvals/follow-up-times";
import type { AccessRequest, RequestFollowUp } from "@/lib/db/schema";

/** When and to whom the request escalates (or escalated), for the request's facts; nothing if its rule does not escalate. */
export function EscalationFacts({ request, escalated }: { request: AccessRequest; escalated: RequestFollowUp | undefined }) {
  const escalate = request.followUp?.escalate;
  const at = escalatesAt(request);
  if (!escalate || !at) return null;
  const where = escalate.channel ? ` (Slack ${escalate.channel})` : "";
  return (
    <>
      <dt>Escalation</dt>
      <dd data-testid="escalation">
        {escalated ? (
          <>
            escalated to {escalated.groups.join(", ")}
            {where} at <time dateTime={escalated.at.toISOString()}>{escalated.at.toISOString()}</time>: they may decide too
          </>
        ) : (
          <>
            to {escalate.to.join(", ")}
            {where} at <time dateTime={at.toISOString()}>{at.toISOString()}</time>, if still waiting
          </>
        )}
      </dd>
    </>
  );
}
