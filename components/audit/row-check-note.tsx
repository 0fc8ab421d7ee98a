import type { RowCheck } from "@/lib/audit/row-check";

/** Whether this one row still holds its place in the chain: its content, and its link back. */
export function RowCheckNote({ id, check }: { id: number; check: RowCheck }) {
  const follows = check.follows === "genesis" ? "the start of the chain" : check.follows === "anchor" ? "the anchor left by pruning" : check.follows === "missing" ? `row ${id - 1}, which is missing` : `row ${check.follows.rowId}`;
  const ok = check.contentMatches && check.followsPrevious;
  return (
    <p className={`audit-chain ${ok ? "audit-chain-ok" : "audit-chain-broken"}`} data-testid="row-check" role={ok ? "status" : "alert"}>
      {check.contentMatches ? "Its content matches its hash" : <strong>Its content no longer matches its hash: the row was edited</strong>}
      {"; "}
      {check.followsPrevious ? `it follows ${follows}.` : <strong>it does not follow {follows}.</strong>}
    </p>
  );
}
