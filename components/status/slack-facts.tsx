import type { SlackStatus } from "@/lib/ops/status";
import { TimeAgo } from "../ui/time-ago";
import { StateBadge } from "./state-badge";

const MODES = { off: "off", http: "on, over HTTP (Slack calls /api/slack/events)", socket: "on, in Socket Mode" } as const;

/** Slack: how it is connected, and the messages it has given up on or is still retrying. */
export function SlackFacts({ slack, now }: { slack: SlackStatus; now: Date }) {
  const { failures } = slack;
  return (
    <dl className="facts" data-testid="status-slack">
      <dt>Mode</dt>
      <dd data-testid="status-slack-mode">
        {MODES[slack.mode]}
        {slack.channel && <span className="muted small mono"> · {slack.channel}</span>}
      </dd>
      {slack.mode !== "off" && (
        <>
          <dt>Delivery</dt>
          <dd data-testid="status-slack-failures">
            {!failures.ok ? (
              <span className="small outcome-refused">could not be read: {failures.error}</span>
            ) : failures.value.lastDay === 0 && failures.value.retrying === 0 ? (
              <StateBadge tone="good">no failures in the last day</StateBadge>
            ) : (
              <>
                <StateBadge tone="bad">{`${failures.value.lastDay} given up in the last day, ${failures.value.retrying} retrying`}</StateBadge>
                <ul className="small">
                  {failures.value.recent.map((f) => (
                    <li key={f.requestId}>
                      <a href={`/requests/${f.requestId}`}>{f.requestId}</a> <TimeAgo at={f.at} now={now} />: {f.error}
                    </li>
                  ))}
                </ul>
              </>
            )}
          </dd>
        </>
      )}
    </dl>
  );
}
