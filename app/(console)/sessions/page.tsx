import type { Metadata } from "next";
import { LiveRefresh } from "@/components/live/live-refresh";
import { LiveSessionsTable } from "@/components/sessions/live-sessions-table";
import { RecentStatementsTable } from "@/components/sessions/recent-statements-table";
import { EmptyState } from "@/components/ui/empty-state";
import { PageTitle } from "@/components/ui/page-title";
import { recentStatements } from "@/lib/activity/queries";
import { requirePerson } from "../../current-person";

export const metadata: Metadata = { title: "Sessions" };
export const dynamic = "force-dynamic";

export default async function SessionsPage() {
  const { rt } = await requirePerson();
  const sessions = await rt.instances.sessionsEverywhere();
  const statements = await recentStatements(rt.store, 50);
  const now = new Date();
  return (
    <>
      <LiveRefresh on={["session.opened", "session.closed", "activity.recorded"]} />
      <PageTitle title="Sessions" description="Agent connections through the proxy, live" />
      <section className="section" aria-labelledby="live-title">
        <h2 id="live-title">
          Connected now <span className="count">{sessions.length}</span>
        </h2>
        {sessions.length > 0 ? (
          <LiveSessionsTable sessions={sessions} now={now} />
        ) : (
          <EmptyState title="No agent sessions">
            Agents connect to the proxy at {rt.proxy.host}:{rt.proxy.port} with their token as the password.
          </EmptyState>
        )}
      </section>
      <section className="section" aria-labelledby="recent-title">
        <h2 id="recent-title">Recent statements</h2>
        {statements.length > 0 ? <RecentStatementsTable statements={statements} now={now} /> : <p className="muted">No statements yet.</p>}
      </section>
    </>
  );
}
