import type { Metadata } from "next";
import Link from "next/link";
import { Countdown } from "@/components/grants/countdown";
import { RevokeButton } from "@/components/grants/revoke-button";
import { LiveRefresh } from "@/components/live/live-refresh";
import { EmptyState } from "@/components/ui/empty-state";
import { PageTitle } from "@/components/ui/page-title";
import { isBreakGlass } from "@/lib/access/break-glass-id";
import { scopePhrase } from "@/lib/approvals/grant-label";
import { whyNot } from "@/lib/identity/permissions";
import { requirePerson } from "../../current-person";
import { revokeGrant } from "./actions";

export const metadata: Metadata = { title: "Grants" };
export const dynamic = "force-dynamic";

export default async function GrantsPage() {
  const { person, rt } = await requirePerson();
  const grants = await rt.grants.active();
  const mayRevoke = !whyNot(person, "grants.revoke");
  return (
    <>
      <LiveRefresh on={["grant.changed", "activity.recorded"]} />
      <PageTitle title="Grants" description="Time-boxed access people have approved" />
      {grants.length === 0 ? (
        <EmptyState title="No active grants">Approving a request for a duration creates a grant; it is listed here with its countdown and a Revoke button.</EmptyState>
      ) : (
        <table className="table" aria-label="Active grants">
          <thead>
            <tr>
              <th>Agent</th>
              <th>Scope</th>
              <th>Approved by</th>
              <th>Ends</th>
              <th className="num">Used</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {grants.map((g) => (
              <tr key={g.id} data-testid="grant">
                <td>
                  <strong>{g.agentId}</strong> on {g.resource}
                  <div className="muted small">
                    {isBreakGlass(g.id) ? <Link href="/">break-glass, not approved</Link> : <Link href={`/requests/${g.requestId}`}>{g.requestId}</Link>} · rule {g.rule}
                  </div>
                </td>
                <td className="small" data-testid="grant-scope">
                  {scopePhrase(g.scope)}
                </td>
                <td className="small">{g.approvedBy.join(", ")}</td>
                <td>
                  <Countdown until={g.expiresAt.toISOString()} />
                </td>
                <td className="num">{g.useCount}</td>
                <td>{mayRevoke && <RevokeButton grantId={g.id} action={revokeGrant} />}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
