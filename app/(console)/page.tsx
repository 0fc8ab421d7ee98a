import type { Metadata } from "next";
import { LiveRefresh } from "@/components/live/live-refresh";
import { ConnectAgentGuide } from "@/components/requests/connect-agent-guide";
import { RequestSummary } from "@/components/requests/request-summary";
import { PageTitle } from "@/components/ui/page-title";
import { getRuntime } from "@/lib/runtime";

export const metadata: Metadata = { title: "Requests" };
export const dynamic = "force-dynamic";

export default function RequestsPage() {
  const { proxy, sso, approvals } = getRuntime();
  const pending = approvals.list("pending");
  const past = approvals.list(undefined, 30).filter((r) => r.status !== "pending");
  const now = new Date();
  const approvalsOf = (id: string) => approvals.decisions(id).filter((d) => d.decision === "approve").length;
  return (
    <>
      <LiveRefresh on={["request.changed"]} title={`${pending.length > 0 ? `(${pending.length}) ` : ""}Requests · Airlock`} />
      <PageTitle title="Requests" description="Statements and access waiting for a decision" />
      <section className="section" aria-labelledby="pending-title">
        <h2 id="pending-title">
          Waiting <span className="count">{pending.length}</span>
        </h2>
        {pending.length > 0 ? (
          <ul className="requests" aria-label="Pending requests">
            {pending.map((r) => (
              <RequestSummary key={r.id} request={r} approvals={approvalsOf(r.id)} now={now} />
            ))}
          </ul>
        ) : (
          <ConnectAgentGuide proxyHost={proxy.host} proxyPort={proxy.port} development={sso.development} />
        )}
      </section>
      {past.length > 0 && (
        <section className="section" aria-labelledby="past-title">
          <h2 id="past-title">Decided recently</h2>
          <ul className="requests" aria-label="Past requests">
            {past.map((r) => (
              <RequestSummary key={r.id} request={r} approvals={approvalsOf(r.id)} now={now} />
            ))}
          </ul>
        </section>
      )}
    </>
  );
}
