/** "3m ago", with the exact time on hover. */
export function TimeAgo({ at, now }: { at: Date; now: Date }) {
  const seconds = Math.max(0, Math.round((now.getTime() - at.getTime()) / 1000));
  const text =
    seconds < 60 ? `${seconds}s ago` : seconds < 3600 ? `${Math.floor(seconds / 60)}m ago` : seconds < 86400 ? `${Math.floor(seconds / 3600)}h ago` : `${Math.floor(seconds / 86400)}d ago`;
  return (
    <time dateTime={at.toISOString()} title={at.toISOString()}>
      {text}
    </time>
  );
}
