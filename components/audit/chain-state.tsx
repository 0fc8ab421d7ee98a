import type { ChainStatus } from "@/lib/audit/chain-status";
import { formatCount, formatDuration, formatUtc } from "./format";

/**
 * The chain's verdict as last walked, with when and how long it took, and a button to walk it
 * again (a GET of the same view with `verify=1`, so it works without scripts and keeps filters).
 */
export function ChainState({ status, hidden }: { status: ChainStatus; hidden: Record<string, string> }) {
  const { verdict, checkedAt, tookMs } = status;
  return (
    <div className={`audit-chain ${verdict.ok ? "audit-chain-ok" : "audit-chain-broken"}`} data-testid="chain-state" role={verdict.ok ? "status" : "alert"}>
      <p>
        {verdict.ok ? (
          <>
            <strong>Chain intact</strong> — {formatCount(verdict.rows)} rows verified
            {verdict.checkpoints > 0 && <>, {verdict.checkpoints === 1 ? "its signed checkpoint holds" : `${formatCount(verdict.checkpoints)} signed checkpoints hold`}</>}
          </>
        ) : (
          <>
            <strong>Chain broken at row {verdict.rowId}</strong>: {verdict.problem} ({formatCount(verdict.rows)} rows before it verified)
          </>
        )}
        <span className="muted small">
          {" "}
          · checked <time dateTime={checkedAt.toISOString()}>{formatUtc(checkedAt)} UTC</time> in {formatDuration(tookMs)}
        </span>
      </p>
      <form method="get" action="/audit">
        {Object.entries(hidden).map(([name, value]) => (
          <input key={name} type="hidden" name={name} value={value} />
        ))}
        <button className="button" type="submit" name="verify" value="1">
          Verify now
        </button>
      </form>
    </div>
  );
}
