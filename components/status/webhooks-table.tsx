import type { OperatorStatus } from "@/lib/ops/status";
import { TimeAgo } from "../ui/time-ago";
import { StateBadge } from "./state-badge";

type Webhooks = Extract<OperatorStatus["webhooks"], { ok: true }>["value"];

/** The policy's webhooks by name (never URL, which may carry a token): what waits, what was delivered or given up in the last day. */
export function WebhooksTable({ webhooks, now }: { webhooks: Webhooks; now: Date }) {
  if (webhooks.webhooks.length === 0) return <p className="muted">None: the policy names no webhooks (notify.webhooks).</p>;
  return (
    <>
      <table className="table" aria-label="Webhooks">
        <thead>
          <tr>
            <th>Webhook</th>
            <th>State</th>
            <th className="num">Waiting</th>
            <th className="num">Delivered (last day)</th>
            <th className="num">Given up (last day)</th>
          </tr>
        </thead>
        <tbody>
          {webhooks.webhooks.map((w) => (
            <tr key={w.name} data-testid="status-webhook">
              <td>
                <strong className="mono">{w.name}</strong>
                <div className="muted small mono">{w.events.join(", ")}</div>
              </td>
              <td>
                {w.failedLastDay > 0 ? (
                  <StateBadge tone="bad">{`${w.failedLastDay} given up`}</StateBadge>
                ) : w.retrying > 0 ? (
                  <StateBadge tone="bad">{`${w.retrying} retrying`}</StateBadge>
                ) : (
                  <StateBadge tone="good">delivering</StateBadge>
                )}
              </td>
              <td className="num">{w.waiting}</td>
              <td className="num">{w.deliveredLastDay}</td>
              <td className="num">{w.failedLastDay}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {webhooks.recentFailures.length > 0 && (
        <ul className="small" aria-label="Deliveries given up">
          {webhooks.recentFailures.map((f) => (
            <li key={`${f.webhook}:${f.eventId}`}>
              <span className="mono">{f.webhook}</span> · {f.type} <span className="mono">{f.eventId}</span> <TimeAgo at={f.at} now={now} />: {f.error}
            </li>
          ))}
        </ul>
      )}
    </>
  );
}
