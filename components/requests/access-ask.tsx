import { accessPhrase } from "@/lib/access/label";
import type { AccessRequest } from "@/lib/db/schema";

/** What an agent asked for up front, in place of a held statement's SQL: what, how long, why. */
export function AccessAsk({ request }: { request: AccessRequest }) {
  return (
    <p className="access-ask" data-testid="access-ask">
      asks for <strong>{accessPhrase(request)}</strong>
      {request.reason ? <> — “{request.reason}”</> : <span className="muted"> — no reason given</span>}
    </p>
  );
}
