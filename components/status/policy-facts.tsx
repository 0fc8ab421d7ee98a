import Link from "next/link";
import type { OperatorStatus } from "@/lib/ops/status";
import { TimeAgo } from "../ui/time-ago";
import { StateBadge } from "./state-badge";

/** The policy in force: which file, since when, which version, and whether the latest edit failed to load. */
export function PolicyFacts({ policy, now }: { policy: OperatorStatus["policy"]; now: Date }) {
  return (
    <dl className="facts" data-testid="status-policy">
      <dt>File</dt>
      <dd className="mono" data-testid="status-policy-file">
        {policy.file}
      </dd>
      <dt>In force since</dt>
      <dd>
        <TimeAgo at={policy.loadedAt} now={now} /> · {policy.rules} rules · {policy.resources} resources · <Link href="/policy">view</Link>
      </dd>
      <dt>Version</dt>
      <dd className="mono" data-testid="status-policy-hash" title={policy.hash}>
        sha256 {policy.hash.slice(0, 12)}
      </dd>
      <dt>Last edit</dt>
      <dd data-testid="status-policy-error">
        {policy.error ? (
          <>
            <StateBadge tone="bad">not loaded</StateBadge> <TimeAgo at={policy.error.at} now={now} />; the version above stays in force
            <pre className="small">{policy.error.message}</pre>
          </>
        ) : (
          <StateBadge tone="good">loaded</StateBadge>
        )}
      </dd>
    </dl>
  );
}
