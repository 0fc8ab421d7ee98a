import type { CatalogSnapshot, ResourceStatus } from "@/lib/ops/status";
import { formatDuration } from "../audit/format";
import { TimeAgo } from "../ui/time-ago";
import { StateBadge } from "./state-badge";

/** Each resource in the policy: whether Airlock can log in to it now, and the catalog it classifies with. */
export function ResourcesTable({ resources, now }: { resources: ResourceStatus[]; now: Date }) {
  return (
    <table className="table" aria-label="Resources">
      <thead>
        <tr>
          <th>Resource</th>
          <th>Reachable</th>
          <th>Catalog</th>
        </tr>
      </thead>
      <tbody>
        {resources.map((r) => (
          <tr key={r.name} data-testid="status-resource">
            <td>
              <strong>{r.name}</strong>
              <div className="muted small mono">{r.url}</div>
            </td>
            <td data-testid="status-resource-reach">
              {r.reach.state === "embedded" ? (
                <>
                  <StateBadge tone="neutral">embedded</StateBadge>
                  <div className="muted small">started by its first session</div>
                </>
              ) : (
                <>
                  <StateBadge tone={r.reach.state === "reachable" ? "good" : "bad"}>{r.reach.state}</StateBadge>
                  <div className="muted small">
                    {r.reach.state === "reachable" ? `login took ${formatDuration(r.reach.tookMs)}` : r.reach.error} · checked <TimeAgo at={r.reach.checkedAt} now={now} />
                  </div>
                </>
              )}
            </td>
            <td data-testid="status-resource-catalog">
              <CatalogCell catalog={r.catalog} now={now} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function CatalogCell({ catalog, now }: { catalog: CatalogSnapshot; now: Date }) {
  return (
    <>
      {catalog.state === "loaded" && catalog.loadedAt ? (
        <>
          read <TimeAgo at={catalog.loadedAt} now={now} />
          {catalog.refreshing ? <span className="muted"> · refreshing</span> : catalog.stale && <span className="muted"> · out of date, read again at the next session</span>}
        </>
      ) : (
        <span className="muted">{catalog.state === "loading" ? "being read" : "not read yet (no session has needed it)"}</span>
      )}
      {catalog.lastError && (
        <div className="small outcome-refused">
          last read failed <TimeAgo at={catalog.lastError.at} now={now} />: {catalog.lastError.message}
        </div>
      )}
    </>
  );
}
