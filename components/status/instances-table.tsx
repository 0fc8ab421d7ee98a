import type { InstanceStatus } from "@/lib/ops/status";
import { TimeAgo } from "../ui/time-ago";
import { StateBadge } from "./state-badge";

/** The Airlock processes sharing the store, by their own heartbeats. */
export function InstancesTable({ instances, now }: { instances: InstanceStatus[]; now: Date }) {
  return (
    <table className="table" aria-label="Instances">
      <thead>
        <tr>
          <th>Instance</th>
          <th>State</th>
          <th>Last heartbeat</th>
          <th>Started</th>
          <th className="num">Sessions</th>
        </tr>
      </thead>
      <tbody>
        {instances.map((i) => (
          <tr key={i.id} data-testid="status-instance">
            <td>
              <strong className="mono">{i.name}</strong>
              {i.current && <span className="muted small"> · this one</span>}
              <div className="muted small mono">
                {i.host} pid {i.pid}
              </div>
            </td>
            <td>
              <StateBadge tone={i.alive ? "good" : "bad"}>{i.alive ? "running" : "gone"}</StateBadge>
            </td>
            <td>
              <TimeAgo at={i.lastHeartbeat} now={now} />
            </td>
            <td>
              <TimeAgo at={i.startedAt} now={now} />
            </td>
            <td className="num">{i.sessions}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
