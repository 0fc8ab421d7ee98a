import Link from "next/link";
import type { OperatorStatus } from "@/lib/ops/status";
import { formatCount, formatDuration } from "../audit/format";
import { TimeAgo } from "../ui/time-ago";
import { StateBadge } from "./state-badge";

/** The audit chain's verdict as last walked (the Audit page walks it again on request). */
export function ChainSummary({ chain, now }: { chain: OperatorStatus["chain"]; now: Date }) {
  if (!chain.ok) {
    return (
      <p data-testid="status-chain">
        <StateBadge tone="bad">unknown</StateBadge> <span className="small outcome-refused">the chain could not be checked: {chain.error}</span>
      </p>
    );
  }
  const { verdict, checkedAt, tookMs } = chain.value;
  return (
    <p data-testid="status-chain">
      {verdict.ok ? (
        <>
          <StateBadge tone="good">intact</StateBadge> {formatCount(verdict.rows)} rows verified
          {verdict.checkpoints > 0 && (verdict.checkpoints === 1 ? ", its signed checkpoint holds" : `, ${formatCount(verdict.checkpoints)} signed checkpoints hold`)}
        </>
      ) : (
        <>
          <StateBadge tone="bad">broken</StateBadge> at row {verdict.rowId}: {verdict.problem} ({formatCount(verdict.rows)} rows before it verified)
        </>
      )}
      <span className="muted small">
        {" "}
        · checked <TimeAgo at={checkedAt} now={now} /> in {formatDuration(tookMs)} · <Link href="/audit">Audit</Link>
      </span>
    </p>
  );
}
