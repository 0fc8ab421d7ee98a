import Link from "next/link";
import { scopePhrase } from "@/lib/approvals/grant-label";
import { kindsOf } from "@/lib/approvals/grant-scope";
import { heldSql } from "@/lib/approvals/held-statements";
import type { AccessRequest } from "@/lib/db/schema";
import { AccessAsk } from "./access-ask";
import { SqlSnippet } from "../ui/sql-snippet";
import { TimeAgo } from "../ui/time-ago";

/** One request in the queue: who, where, what (the SQL, or the access asked for), under which rule, how long, how far. */
export function RequestSummary({ request, approvals, now }: { request: AccessRequest; approvals: number; now: Date }) {
  return (
    <li className="request" data-testid="request" data-request-id={request.id}>
      <div className="request-head">
        <Link href={`/requests/${request.id}`} className="request-link">
          <strong>{request.agentId}</strong> on <strong>{request.resource}</strong>
        </Link>
        <span className={`status status-${request.status}`}>{request.status}</span>
      </div>
      {request.kind === "access" ? <AccessAsk request={request} /> : <SqlSnippet sql={heldSql(request.statements)} />}
      <div className="request-meta">
        {kindsOf(request.scope).map((k) => (
          <span key={k} className={`kind kind-${k}`}>
            {k}
          </span>
        ))}
        <span className="table-badge">{scopePhrase(request.scope)}</span>
        <span className="muted">rule {request.rule}</span>
        <span className="muted">
          {request.status === "pending" ? "waiting since " : "asked "}
          <TimeAgo at={request.createdAt} now={now} />
        </span>
        <span className="muted" data-testid="approvals">
          {approvals} of {request.requiredApprovals} approvals
        </span>
        <span className="muted">{request.groups.join(", ")}</span>
      </div>
    </li>
  );
}
