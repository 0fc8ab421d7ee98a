import type { Metadata } from "next";
import { BreakGlassReview } from "@/components/break-glass/break-glass-review";
import { LiveRefresh } from "@/components/live/live-refresh";
import { ConnectAgentGuide } from "@/components/requests/connect-agent-guide";
import { QueuePager } from "@/components/requests/queue-pager";
import { ReminderNotifications } from "@/components/requests/reminder-notifications";
import { RequestFilters } from "@/components/requests/request-filters";
import { RequestSummary } from "@/components/requests/request-summary";
import { knownAgents } from "@/lib/activity/queries";
import { whyNot } from "@/lib/identity/permissions";
import { formatDuration } from "@/lib/policy/duration";
import type { AccessRequest } from "@/lib/db/schema";
import { PageTitle } from "@/components/ui/page-title";
import { requirePerson } from "../current-person";
import { reviewBreakGlass } from "./break-glass/actions";

export const metadata: Metadata = { title: "Requests" };
export const dynamic = "force-dynamic";

type Filters = { status?: string; agent?: string; resource?: string; page?: string };
/** Waiting requests per page: however many there are, the count says it and the pages reach them all. */
const PAGE_SIZE = 50;
const DECIDED = new Set(["approved", "denied", "expired", "cancelled"]);

export default async function RequestsPage({ searchParams }: { searchParams: Promise<Filters> }) {
  const { person, rt } = await requirePerson();
  const filters = await searchParams;
  const { proxy, sso, approvals, policy, store } = rt;
  const scope = { agentId: filters.agent || undefined, resource: filters.resource || undefined };
  const waiting = await approvals.pendingCount(scope);
  const pages = Math.max(1, Math.ceil(waiting / PAGE_SIZE));
  const page = Math.min(pages, Math.max(1, Math.floor(Number(filters.page)) || 1));
  const pending = await approvals.list("pending", PAGE_SIZE, { ...scope, offset: (page - 1) * PAGE_SIZE });
  const status = DECIDED.has(filters.status ?? "") ? (filters.status as AccessRequest["status"]) : undefined;
  const past = (await approvals.list(status, 50, scope)).filter((r) => r.status !== "pending");
  const now = new Date();
  const approvalCounts = new Map(await Promise.all(pending.map(async (r) => [r.id, (await approvals.decisions(r.id)).filter((d) => d.decision === "approve").length] as const)));
  const agents = (await knownAgents(store)).map((a) => a.id);
  // Emergency access nobody approved stays here until a person has looked at it afterwards.
  const toReview = await rt.breakGlass.unreviewed();
  return (
    <>
      <LiveRefresh on={["request.changed", "break_glass.changed"]} title={`${waiting > 0 ? `(${waiting}) ` : ""}Requests · Airlock`} />
      <PageTitle title="Requests" description="Statements and access waiting for a decision" />
      {person.role !== "viewer" && <ReminderNotifications />}
      {toReview.length > 0 && (
        <section className="section" aria-labelledby="break-glass-title">
          <h2 id="break-glass-title">
            Break-glass: needs review <span className="count">{toReview.length}</span>
          </h2>
          <ul className="requests" aria-label="Break-glass to review">
            {toReview.map((b) => (
              <BreakGlassReview
                key={b.id}
                use={{ id: b.id, agentId: b.agentId, resource: b.resource, reason: b.reason, duration: formatDuration(b.durationMs), createdAt: b.createdAt.toISOString() }}
                canReview={!whyNot(person, "break_glass.review")}
                action={reviewBreakGlass}
              />
            ))}
          </ul>
        </section>
      )}
      <section className="section" aria-labelledby="pending-title">
        <h2 id="pending-title">
          Waiting <span className="count">{waiting}</span>
        </h2>
        <QueuePager page={page} pages={pages} params={{ status: filters.status, agent: filters.agent, resource: filters.resource }} />
        {pending.length > 0 ? (
          <ul className="requests" aria-label="Pending requests">
            {pending.map((r) => (
              <RequestSummary key={r.id} request={r} approvals={approvalCounts.get(r.id) ?? 0} now={now} />
            ))}
          </ul>
        ) : (
          <ConnectAgentGuide proxyHost={proxy.host} proxyPort={proxy.port} development={sso.development} />
        )}
      </section>
      <section className="section" aria-labelledby="past-title">
        <h2 id="past-title">Decided</h2>
        <RequestFilters
          status={filters.status}
          agent={filters.agent}
          resource={filters.resource}
          agents={agents}
          resources={[...policy.current.resources.keys()]}
        />
        {past.length > 0 ? (
          <ul className="requests" aria-label="Past requests">
            {past.map((r) => (
              <RequestSummary key={r.id} request={r} approvals={approvalCounts.get(r.id) ?? 0} now={now} />
            ))}
          </ul>
        ) : (
          <p className="muted">No decided requests match.</p>
        )}
      </section>
    </>
  );
}
