import Link from "next/link";
import type { AuditListRow } from "@/lib/audit/queries";
import { DecisionBadge } from "./decision-badge";
import { formatUtc } from "./format";

/** Audit rows, one line each; each opens its full record. Stacks into cards on narrow screens. */
export function AuditTable({ rows, label }: { rows: AuditListRow[]; label: string }) {
  return (
    <div className="audit-table-wrap">
      <table className="table audit-table" aria-label={label}>
        <thead>
          <tr>
            <th>Row</th>
            <th>When (UTC)</th>
            <th>Event</th>
            <th>Who</th>
            <th>Decision</th>
            <th>Statement</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={row.id} data-testid="audit-row">
              <td data-label="Row">
                <Link href={`/audit/${row.id}`} aria-label={`Open row ${row.id}`}>
                  #{row.id}
                </Link>
              </td>
              <td data-label="When" className="nowrap">
                <time dateTime={row.at.toISOString()}>{formatUtc(row.at)}</time>
              </td>
              <td data-label="Event">
                <code>{row.type}</code>
              </td>
              <td data-label="Who">
                {row.agentId ?? row.person ?? <span className="muted">—</span>}
                {row.agentId && row.person && <div className="muted small">{row.person}</div>}
                {row.resource && <div className="muted small">on {row.resource}</div>}
              </td>
              <td data-label="Decision">
                <DecisionBadge decision={row.decision} />
              </td>
              <td data-label="Statement" className="audit-sql-cell">
                {row.sql && (
                  <code className="audit-sql" title={row.sql}>
                    {row.sql.replace(/\s+/g, " ").trim()}
                  </code>
                )}
                {row.tables.length > 0 && <div className="muted small">{row.tables.join(", ")}</div>}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
