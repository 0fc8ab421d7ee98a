import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { LiveRefresh } from "@/components/live/live-refresh";
import { DecisionPanel } from "@/components/requests/decision-panel";
import { MaskingPreview } from "@/components/policy/explanation-view";
import { SlackStatus } from "@/components/requests/slack-status";
import { RecentStatementsTable } from "@/components/sessions/recent-statements-table";
import { PageTitle } from "@/components/ui/page-title";
import { TimeAgo } from "@/components/ui/time-ago";
import { boundText } from "@/lib/activity/statement-text";
import { recentStatements } from "@/lib/activity/queries";
import { AccessAsk } from "@/components/requests/access-ask";
import { EscalationFacts } from "@/components/requests/escalation-facts";
import { RequestHistory } from "@/components/requests/request-history";
import { followUpsOf } from "@/lib/approvals/follow-ups";
import { heldPathNote, heldSearchPath } from "@/lib/approvals/held-path";
import type { Catalog } from "@/lib/sql/types";
import { ImpactPreview } from "@/components/requests/impact-preview";
import { UndoPanel } from "@/components/requests/undo-panel";
import { undoView } from "@/lib/approvals/undo/view";
import { requestRevert } from "../revert-actions";
import { previewOf } from "@/lib/approvals/preview/store";
import { approveLabel, durationPhrase, grantShortfall, scopePhrase } from "@/lib/approvals/grant-label";
import { hasDecided, whyNotDecider } from "@/lib/approvals/people";
import { signInOfSession, whyNotSteppedUp } from "@/lib/approvals/step-up";
import { SAML_PATHS } from "@/lib/identity/saml/start";
import { parsePublicUrl, publicHref, type PublicUrl } from "@/lib/public-url";
import { StepUpNotice } from "@/components/requests/step-up-notice";
import { offersRowLimit } from "@/lib/approvals/row-limit";
import { longestGrant } from "@/lib/approvals/grant-label";
import type { AccessRequest } from "@/lib/db/schema";
import { formatDuration } from "@/lib/policy/duration";
import { explain, type StatementExplanation } from "@/lib/policy/explain";
import type { Runtime } from "@/lib/runtime";
import { SlackMessageStore } from "@/lib/slack/message-store";
import { slackMode } from "@/lib/slack/settings";
import { requirePerson } from "../../../current-person";
import { decideRequest, signInToDecide } from "../actions";

export const metadata: Metadata = { title: "Request" };
export const dynamic = "force-dynamic";

export default async function RequestPage({ params }: { params: Promise<{ id: string }> }) {
  const { person, rt } = await requirePerson();
  const { id } = await params;
  const { approvals, store, config } = rt;
  const request = await approvals.get(id);
  if (!request) notFound();
  const decisions = await approvals.decisions(id);
  const followUps = await followUpsOf(store, [id]);
  const preview = request.kind === "statement" ? await previewOf(store, id) : undefined;
  const activity = await recentStatements(store, 10, request.agentId);
  const slackMessage = await new SlackMessageStore(store).get(id);
  const now = new Date();
  // The same checks as the approvals service, so the buttons show exactly when a decision would count.
  const mayDecide = request.status === "pending" && !whyNotDecider(person, request, rt.agentIssuer) && !hasDecided(decisions, person);
  // Step-up: the same check as the approvals service, so a stale sign-in is offered a new one instead of buttons that would not count.
  const signIn = signInOfSession(person.signIn);
  const stale = mayDecide ? whyNotSteppedUp(request, signIn, now) : undefined;
  const { masking, catalog } = await maskingOf(rt, request);
  // Its undo (an approved write's captured rows, or what a revert restores), masked (lib/approvals/undo/view.ts).
  const undo = await undoView(rt.store, rt.approvals, rt.policy.current, request);
  const shortfall = grantShortfall(request.scope);

  return (
    <>
      <LiveRefresh on={["request.changed", "slack.changed", "request.reminded", "request.escalated"]} />
      <PageTitle title={`Request ${request.id}`} description={`${request.agentId} on ${request.resource}`} />
      <section className="section panel">
        <p>
          <span className={`status status-${request.status}`} data-testid="request-status">
            {request.status}
          </span>{" "}
          {request.status === "pending" ? (
            <>
              waiting since <TimeAgo at={request.createdAt} now={now} />, expires <time dateTime={request.expiresAt.toISOString()}>{request.expiresAt.toISOString()}</time>
            </>
          ) : (
            request.outcomeReason && <>— {request.outcomeReason}</>
          )}
        </p>
        {request.kind === "access" && <AccessAsk request={request} />}
        {request.statements.map((s, i) => (
          <div key={i}>
            {s.prepared !== undefined && <p className="muted small">Prepared statement {s.prepared}, which it runs:</p>}
            <HeldText text={s.text} />
            {heldPathNote(s.path, catalog) && (
              <p className="muted small" data-testid="held-path">
                {heldPathNote(s.path, catalog)}
              </p>
            )}
            {s.params && s.params.length > 0 && (
              <p className="muted small">
                Parameters: {s.params.map((p, j) => <code key={j}>${j + 1} = {p === null ? "NULL" : JSON.stringify(boundText(p, MAX_PARAM_BYTES).text)} </code>)}
              </p>
            )}
            {(request.status === "pending" || request.status === "approved") && masking[i]?.map((m, j) => <MaskingPreview key={j} masking={m} held={request.status === "pending"} />)}
          </div>
        ))}
        <dl className="facts">
          <dt>Agent</dt>
          <dd>
            {request.agentId} <span className="muted">({request.groups.join(", ")})</span>
          </dd>
          <dt>Scope</dt>
          <dd data-testid="request-scope">
            {scopePhrase(request.scope)}
            {request.kind === "statement" && shortfall && <div className="muted small">{shortfall}</div>}
          </dd>
          {request.kind === "access" && (
            <>
              <dt>Duration</dt>
              <dd data-testid="asked-duration">{durationPhrase(request.durationMs ?? 0)}, from approval</dd>
              <dt>Reason</dt>
              <dd>{request.reason ?? <span className="muted">none given</span>}</dd>
            </>
          )}
          <dt>Rule</dt>
          <dd>
            <code>{request.rule}</code> — {request.why}
          </dd>
          <dt>Needs</dt>
          <dd>
            {request.requiredApprovals} approval{request.requiredApprovals > 1 ? "s" : ""} from {request.approverGroups.join(", ")}
          </dd>
          <EscalationFacts request={request} escalated={followUps.find((f) => f.kind === "escalation")} />
          {request.grantId && (
            <>
              <dt>Grant</dt>
              <dd>{request.grantId}</dd>
            </>
          )}
        </dl>
        <SlackStatus mode={slackMode(config.slack)} message={slackMessage} />
      </section>
      {request.kind === "statement" && undo?.of !== "revert" && <ImpactPreview preview={preview} pending={request.status === "pending"} />}
      {undo && <UndoPanel view={undo} mayAsk={person.role !== "viewer"} action={requestRevert} />}
      {request.status === "pending" && request.stepUpMs !== null && (
        <StepUpNotice
          requestId={request.id}
          stepUpMs={request.stepUpMs}
          decider={mayDecide}
          stale={stale}
          countsUntil={signIn.at && new Date(signIn.at.getTime() + request.stepUpMs)}
          again={signInAgain(rt, signIn.method, request.id)}
        />
      )}
      {mayDecide && !stale && (
        <DecisionPanel
          requestId={request.id}
          approvals={request.grantOptions.map((o) => ({ value: `approve:${o}`, label: approveLabel(o) }))}
          askedDuration={request.kind === "access" ? formatDuration(request.durationMs ?? 0) : undefined}
          rowLimit={offersRowLimit(request)}
          shorterThan={longestGrant(request)}
          action={decideRequest}
        />
      )}
      <section className="section" aria-labelledby="activity-title">
        <h2 id="activity-title">{request.agentId}&apos;s recent statements</h2>
        {activity.length > 0 ? <RecentStatementsTable statements={activity} now={now} /> : <p className="muted">None recorded.</p>}
      </section>
      <section className="section" aria-labelledby="history-title">
        <h2 id="history-title">History</h2>
        <RequestHistory decisions={decisions} followUps={followUps} now={now} />
      </section>
    </>
  );
}

/**
 * What each statement's result would have masked, under the policy in force now (approval never
 * lifts masking), and the catalog (for the default search_path); nothing when it cannot be read.
 */
async function maskingOf({ policy, classifiers }: Runtime, request: AccessRequest): Promise<{ masking: Array<Array<NonNullable<StatementExplanation["masking"]>>>; catalog?: Catalog }> {
  const resource = policy.current.resources.get(request.resource);
  if (!resource) return { masking: [] };
  try {
    const classifier = await classifiers.forResource(resource);
    const who = { agentId: request.agentId, groups: request.groups, resource: request.resource };
    // On the search_path it was held on: the tables it names there.
    const masking = request.statements.map((s) => explain(policy.current, who, classifier.classify(s.text, undefined, heldSearchPath(s.path))).statements.flatMap((e) => (e.masking ? [e.masking] : [])));
    return { masking, catalog: classifier.catalog };
  } catch {
    return { masking: [] };
  }
}

/** A step-up's new sign-in, the way the person signed in (asked to authenticate anew); none if that way is not configured. */
function signInAgain(rt: Runtime, method: "oidc" | "saml", requestId: string): { action: typeof signInToDecide } | { href: string } | undefined {
  if (method === "oidc") return rt.sso.people ? { action: signInToDecide } : undefined;
  if (!rt.saml) return undefined;
  const start = publicHref(parsePublicUrl(rt.publicUrl) as PublicUrl, SAML_PATHS.login);
  return { href: `${start}?${new URLSearchParams({ next: `/requests/${requestId}`, fresh: "1" })}` };
}

/** A parameter is shown up to this much; the statement up to its stored prefix (a held one may be megabytes). */
const MAX_PARAM_BYTES = 1024;

function HeldText({ text }: { text: string }) {
  const shown = boundText(text);
  return (
    <>
      <pre>
        <code>{shown.text}</code>
      </pre>
      {shown.sha256 && (
        <p className="muted small" data-testid="sql-cut">
          … {shown.bytes.toLocaleString("en-US")} bytes in all, sha256 {shown.sha256}: approving approves the whole text.
        </p>
      )}
    </>
  );
}
