import type { Metadata } from "next";
import Link from "next/link";
import { AuditOverview } from "@/components/audit/audit-overview";
import { LiveRefresh } from "@/components/live/live-refresh";
import { PageTitle } from "@/components/ui/page-title";
import { requestsPerDay, statementsPerHour, topAgents, topTables } from "@/lib/audit/stats";
import { requirePerson } from "../../../current-person";

export const metadata: Metadata = { title: "Audit overview" };
export const dynamic = "force-dynamic";

/** Charts over the audit log; apart from the list, whose every refresh should stay cheap. */
export default async function AuditOverviewPage() {
  const { store } = (await requirePerson()).rt;
  const now = new Date();
  const [hours, days, agents, tables] = await Promise.all([statementsPerHour(store, now), requestsPerDay(store, now), topAgents(store, now), topTables(store, now)]);
  return (
    <>
      <LiveRefresh on={["activity.recorded", "request.changed"]} />
      <PageTitle title="Audit overview" description="What agents ran and how requests went" />
      <nav className="audit-pager" aria-label="Audit views">
        <Link href="/audit">← Audit log</Link>
      </nav>
      <AuditOverview hours={hours} days={days} agents={agents} tables={tables} />
    </>
  );
}
