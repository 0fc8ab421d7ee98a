import type { LiveSession } from "@/lib/activity/live-sessions";
import { SqlSnippet } from "../ui/sql-snippet";
import { TimeAgo } from "../ui/time-ago";

export function LiveSessionsTable({ sessions, now }: { sessions: Array<LiveSession & { instance?: string }>; now: Date }) {
  return (
    <table className="table" aria-label="Live agent sessions">
      <thead>
        <tr>
          <th>Agent</th>
          <th>Resource</th>
          <th>Client</th>
          <th>Instance</th>
          <th>Since</th>
          <th className="num">Statements</th>
          <th>Last statement</th>
        </tr>
      </thead>
      <tbody>
        {sessions.map((s) => (
          <tr key={s.id} data-testid="live-session">
            <td>
              <strong>{s.agentId}</strong>
              <div className="muted small">{s.groups.join(", ")}</div>
            </td>
            <td>{s.resource}</td>
            <td className="mono">{s.clientAddress ?? "—"}</td>
            <td className="mono" data-testid="live-session-instance">{s.instance ?? "—"}</td>
            <td>
              <TimeAgo at={s.startedAt} now={now} />
            </td>
            <td className="num">{s.statementCount}</td>
            <td>{s.lastStatement ? <SqlSnippet sql={s.lastStatement.text} whole={s.lastStatement} /> : <span className="muted">none yet</span>}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
