import Link from "next/link";
import type { AuditRow } from "@/lib/db/schema";
import { DecisionBadge } from "./decision-badge";
import { formatUtc } from "./format";

/** Everything one audit row holds, with links to what it belongs to. */
export function AuditRecord({ row, tables }: { row: AuditRow; tables: string[] }) {
  const whole = sqlFull(row.data);
  return (
    <>
      <dl className="facts audit-facts">
        <dt>Row</dt>
        <dd className="mono">{row.id}</dd>
        <dt>When</dt>
        <dd>
          <time dateTime={row.at.toISOString()}>{formatUtc(row.at)} UTC</time> <span className="muted small">({row.at.getTime()} ms)</span>
        </dd>
        <dt>Event</dt>
        <dd>
          <code>{row.type}</code>
        </dd>
        {row.decision && (
          <>
            <dt>Decision</dt>
            <dd>
              <DecisionBadge decision={row.decision} />
            </dd>
          </>
        )}
        <Fact label="Agent" value={row.agentId} href={row.agentId ? `/audit?agent=${encodeURIComponent(row.agentId)}` : undefined} />
        <Fact label="Person" value={row.person} href={row.person ? `/audit?person=${encodeURIComponent(row.person)}` : undefined} />
        <Fact label="Resource" value={row.resource} />
        <Fact label="Session" value={row.sessionId} href={row.sessionId ? `/audit?session=${encodeURIComponent(row.sessionId)}` : undefined} />
        {row.requestId && (
          <>
            <dt>Request</dt>
            <dd>
              <Link href={`/requests/${encodeURIComponent(row.requestId)}`}>{row.requestId}</Link>{" "}
              <span className="small">
                (<Link href={`/audit?request=${encodeURIComponent(row.requestId)}`}>its audit rows</Link>)
              </span>
            </dd>
          </>
        )}
        <Fact label="Grant" value={row.grantId} href={row.grantId ? `/audit?grant=${encodeURIComponent(row.grantId)}` : undefined} />
        {tables.length > 0 && (
          <>
            <dt>Tables</dt>
            <dd>
              {tables.map((t) => (
                <span key={t} className="table-badge">
                  {t}
                </span>
              ))}
            </dd>
          </>
        )}
        <Fact label="Source" value={row.source} />
      </dl>
      {row.sql && (
        <>
          <h2 className="audit-subtitle">SQL</h2>
          <pre className="audit-pre" data-testid="audit-sql">
            <code>{row.sql}</code>
          </pre>
          {whole && (
            <p className="muted small" data-testid="audit-sql-cut">
              … {whole.bytes.toLocaleString("en-US")} bytes in all, sha256 <span className="mono">{whole.sha256}</span>: the row keeps the statement&apos;s first 16 KiB
            </p>
          )}
        </>
      )}
      <h2 className="audit-subtitle">Data</h2>
      <pre className="audit-pre" data-testid="audit-data">
        <code>{pretty(row.data)}</code>
      </pre>
      <h2 className="audit-subtitle">Chain</h2>
      <dl className="facts audit-facts">
        <dt>prev_hash</dt>
        <dd className="mono audit-hash" data-testid="audit-prev-hash">
          {row.prevHash}
        </dd>
        <dt>hash</dt>
        <dd className="mono audit-hash" data-testid="audit-hash">
          {row.hash}
        </dd>
      </dl>
    </>
  );
}

function Fact({ label, value, href }: { label: string; value: string | null; href?: string }) {
  if (!value) return null;
  return (
    <>
      <dt>{label}</dt>
      <dd>{href ? <Link href={href}>{value}</Link> : value}</dd>
    </>
  );
}

/** A statement cut to its prefix carries its whole length and hash in `data.sqlFull` (lib/audit/log.ts). */
function sqlFull(data: string): { bytes: number; sha256: string } | undefined {
  try {
    const full: unknown = (JSON.parse(data) as { sqlFull?: unknown }).sqlFull;
    if (typeof full !== "object" || full === null) return undefined;
    const { bytes, sha256 } = full as Record<string, unknown>;
    return typeof bytes === "number" && typeof sha256 === "string" ? { bytes, sha256 } : undefined;
  } catch {
    return undefined;
  }
}

/** `data` is canonical JSON (keys sorted, no spaces); people read it indented. */
function pretty(data: string): string {
  try {
    return JSON.stringify(JSON.parse(data), null, 2);
  } catch {
    return data; // shown as stored: an edited row may hold anything, and that is worth seeing
  }
}
