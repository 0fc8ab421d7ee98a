import type { StoreStatus } from "@/lib/ops/status";
import { formatDuration } from "../audit/format";
import { StateBadge } from "./state-badge";

/** The store: which kind and where, whether it answers now, and its schema's migrations. */
export function StoreFacts({ store }: { store: StoreStatus }) {
  const { answering, migrations } = store;
  return (
    <dl className="facts" data-testid="status-store">
      <dt>Kind</dt>
      <dd data-testid="status-store-kind">{store.kind === "sqlite" ? "SQLite file" : "PostgreSQL (shared by every instance on it)"}</dd>
      <dt>Location</dt>
      <dd className="mono">{store.location}</dd>
      <dt>Answering</dt>
      <dd data-testid="status-store-answering">
        {answering.ok ? (
          <>
            <StateBadge tone="good">answering</StateBadge> <span className="muted small">select 1 in {formatDuration(answering.value.tookMs)}</span>
          </>
        ) : (
          <>
            <StateBadge tone="bad">not answering</StateBadge> <span className="small outcome-refused">{answering.error}</span>
          </>
        )}
      </dd>
      <dt>Schema</dt>
      <dd data-testid="status-store-migrations">
        {migrations.ok ? (
          <>
            {migrations.value.applied}
            {migrations.value.expected !== undefined && ` of ${migrations.value.expected}`} migrations applied
            {migrations.value.latest && <span className="muted small mono"> · latest {migrations.value.latest}</span>}
            {migrations.value.pending.length > 0 && <div className="small outcome-refused">not applied: {migrations.value.pending.join(", ")}</div>}
          </>
        ) : (
          <span className="small outcome-refused">could not be read: {migrations.error}</span>
        )}
      </dd>
    </dl>
  );
}
