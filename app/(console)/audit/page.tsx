import type { Metadata } from "next";
import Link from "next/link";
import { redirect } from "next/navigation";
import { AuditFiltersForm } from "@/components/audit/audit-filters";
import { AuditTable } from "@/components/audit/audit-table";
import { ChainState } from "@/components/audit/chain-state";
import { LiveRefresh } from "@/components/live/live-refresh";
import { EmptyState } from "@/components/ui/empty-state";
import { PageTitle } from "@/components/ui/page-title";
import { chainStatus, verifyChainNow } from "@/lib/audit/chain-status";
import { sharedAuditKey } from "@/lib/audit/checkpoints";
import { AUDIT_DECISIONS, AUDIT_TYPE_FAMILIES, AUDIT_TYPES, auditQueryString, hasFilters, parseAuditQuery, type SearchParams } from "@/lib/audit/filters";
import { auditSuggestions, listAuditRows, type AuditPage } from "@/lib/audit/queries";
import { whyNot } from "@/lib/identity/permissions";
import { KINDS } from "@/lib/sql/types";
import { requirePerson } from "../../current-person";

export const metadata: Metadata = { title: "Audit" };
export const dynamic = "force-dynamic";

export default async function AuditPage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  const { person, rt } = await requirePerson();
  const params = await searchParams;
  const { store, config, policy } = rt;
  const { filters, before, errors } = parseAuditQuery(params);
  const here = auditQueryString(filters, { before });
  const { publicKeyPem } = await sharedAuditKey(store, config.dataDir);
  if (params.verify) {
    await verifyChainNow(store, publicKeyPem);
    redirect(`/audit${here}`); // the walk is done; the address without `verify` is safe to reload
  }
  const [chain, page, suggestions] = await Promise.all([
    chainStatus(store, publicKeyPem),
    errors.length > 0 ? Promise.resolve<AuditPage>({ rows: [] }) : listAuditRows(store, filters, { before }),
    auditSuggestions(store),
  ]);
  const mayExport = !whyNot(person, "audit.export");
  const exportQuery = (format: string) => auditQueryString({ from: filters.from, to: filters.to }, { format });

  return (
    <>
      {before === undefined && <LiveRefresh on={["activity.recorded", "request.changed", "grant.changed", "policy.changed", "person.signed_in", "person.sign_in_refused"]} />}
      <PageTitle title="Audit" description="Every connection, statement and decision, in a tamper-evident chain" />
      <section className="section audit-head" aria-label="Chain and export">
        <ChainState status={chain} hidden={Object.fromEntries(new URLSearchParams(here))} />
        <nav className="audit-links" aria-label="Audit views">
          <Link href="/audit/overview">Overview charts</Link>
          {mayExport && (
            <span data-testid="audit-export">
              Export{filters.from || filters.to ? " this time range" : ""}: <a href={`/api/audit/export${exportQuery("csv")}`}>CSV</a> ·{" "}
              <a href={`/api/audit/export${exportQuery("jsonl")}`}>JSON lines</a>
            </span>
          )}
        </nav>
      </section>
      <AuditFiltersForm
        filters={filters}
        choices={{
          types: [...AUDIT_TYPES, ...AUDIT_TYPE_FAMILIES],
          kinds: KINDS,
          decisions: AUDIT_DECISIONS,
          agents: suggestions.agents,
          people: suggestions.people,
          resources: [...policy.current.resources.keys()],
        }}
      />
      {errors.length > 0 && (
        <div className="alert" role="alert" data-testid="audit-filter-errors">
          {errors.map((e) => (
            <div key={e}>{e}</div>
          ))}
        </div>
      )}
      {page.rows.length === 0 ? (
        errors.length === 0 && (
          <EmptyState title={hasFilters(filters) || before ? "No rows match" : "Nothing recorded yet"}>
            {hasFilters(filters) || before ? "Nothing in the log matches these filters." : "Sessions, statements, requests and decisions are recorded here as they happen."}
          </EmptyState>
        )
      ) : (
        <AuditTable rows={page.rows} label="Audit log" />
      )}
      <nav className="audit-pager" aria-label="Pages">
        {before !== undefined && <Link href={`/audit${auditQueryString(filters)}`}>← Newest</Link>}
        <span className="muted small">
          {page.rows.length > 0 && `${page.rows.length} rows, newest first${before !== undefined ? `, older than row ${before}` : ""}`}
        </span>
        {page.olderBefore !== undefined && (
          <Link href={`/audit${auditQueryString(filters, { before: page.olderBefore })}`} rel="next">
            Older →
          </Link>
        )}
      </nav>
    </>
  );
}
