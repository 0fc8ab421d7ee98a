import type { RecentStatement } from "@/lib/activity/queries";
import { SqlSnippet } from "../ui/sql-snippet";
import { TimeAgo } from "../ui/time-ago";

const OUTCOME_LABEL = { ok: "ran", error: "failed", refused: "refused" } as const;

export function RecentStatementsTable({ statements, now }: { statements: RecentStatement[]; now: Date }) {
  return (
    <table className="table" aria-label="Recent statements">
      <thead>
        <tr>
          <th>When</th>
          <th>Agent</th>
          <th>Resource</th>
          <th>Statement</th>
          <th>Outcome</th>
          <th className="num">Rows</th>
          <th className="num">Time</th>
        </tr>
      </thead>
      <tbody>
        {statements.map((s) => (
          <tr key={s.id} data-testid="recent-statement">
            <td>
              <TimeAgo at={s.startedAt} now={now} />
            </td>
            <td>{s.agentId}</td>
            <td>{s.resource}</td>
            <td>
              <SqlSnippet sql={s.text} whole={{ bytes: s.textBytes, sha256: s.textSha256 }} />
            </td>
            <td>
              <span className={`outcome outcome-${s.outcome}`} title={s.errorCode ?? undefined}>
                {OUTCOME_LABEL[s.outcome]}
                {s.errorCode ? ` ${s.errorCode}` : ""}
              </span>
              {s.limit ? (
                <span className="limit-note" data-testid="limit-note" title={s.errorMessage ?? undefined}>
                  {" "}
                  · {s.limit}
                </span>
              ) : null}
              {s.breakGlass ? (
                <span className="break-glass-flag" data-testid="break-glass-flag" title="run under break-glass: emergency access nobody approved">
                  {" "}
                  · break-glass
                </span>
              ) : null}
            </td>
            <td className="num">
              {s.rows}
              {s.masked ? (
                <span className="masked-note" data-testid="masked-note" title={`masked in ${s.masked.columns.join(", ")}`}>
                  {" "}
                  · {s.masked.values} masked
                </span>
              ) : null}
            </td>
            <td className="num">{s.durationMs < 10 ? s.durationMs.toFixed(2) : Math.round(s.durationMs)} ms</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
