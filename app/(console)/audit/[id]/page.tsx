import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { AuditRecord } from "@/components/audit/audit-record";
import { AuditTable } from "@/components/audit/audit-table";
import { RowCheckNote } from "@/components/audit/row-check-note";
import { PageTitle } from "@/components/ui/page-title";
import { getAuditRow, parseTables, relatedAuditRows } from "@/lib/audit/queries";
import { checkRow } from "@/lib/audit/row-check";
import { requirePerson } from "../../../current-person";

export const metadata: Metadata = { title: "Audit row" };
export const dynamic = "force-dynamic";

export default async function AuditRowPage({ params }: { params: Promise<{ id: string }> }) {
  const { rt } = await requirePerson();
  const { id } = await params;
  if (!/^[1-9]\d{0,15}$/.test(id)) notFound();
  const { store } = rt;
  const row = await getAuditRow(store, Number(id));
  if (!row) notFound();
  const check = await checkRow(store, row);
  const hasNext = (await getAuditRow(store, row.id + 1)) !== undefined;
  // A request's story (opened, each decision, the outcome, the statement that ran, its grant);
  // a grant's rows (created, statements run under it, its end).
  const requestRows = row.requestId ? await relatedAuditRows(store, { requestId: row.requestId }) : [];
  const grantRows = row.grantId ? await relatedAuditRows(store, { grantId: row.grantId }) : [];

  return (
    <>
      <PageTitle title={`Audit row ${row.id}`} description={row.type} />
      <nav className="audit-pager" aria-label="Rows">
        <Link href="/audit">← Audit log</Link>
        <span>
          {row.id > 1 && <Link href={`/audit/${row.id - 1}`}>← Row {row.id - 1}</Link>}
          {row.id > 1 && hasNext && " · "}
          {hasNext && <Link href={`/audit/${row.id + 1}`}>Row {row.id + 1} →</Link>}
        </span>
      </nav>
      <section className="section panel">
        <RowCheckNote id={row.id} check={check} />
        <AuditRecord row={row} tables={parseTables(row.tables)} />
      </section>
      {row.requestId && (
        <section className="section" aria-labelledby="request-rows">
          <h2 id="request-rows">
            Request <Link href={`/requests/${encodeURIComponent(row.requestId)}`}>{row.requestId}</Link>: its rows
          </h2>
          <AuditTable rows={requestRows} label={`Audit rows of request ${row.requestId}`} />
        </section>
      )}
      {row.grantId && (
        <section className="section" aria-labelledby="grant-rows">
          <h2 id="grant-rows">Grant {row.grantId}: its rows</h2>
          <AuditTable rows={grantRows} label={`Audit rows of grant ${row.grantId}`} />
        </section>
      )}
    </>
  );
}
