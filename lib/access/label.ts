import { grantPhrase } from "../approvals/grant-label";
import { kindsOf } from "../approvals/grant-scope";
import type { AccessRequest } from "../db/schema";
import { levelOf } from "./scope";

/** How access asked for reads, alike on the web and in Slack: "write access to demo for 15 min". */
export function accessPhrase(request: Pick<AccessRequest, "scope" | "resource" | "durationMs">): string {
  const kinds = kindsOf(request.scope);
  return `${levelOf(kinds) ?? kinds.join(", ")} access to ${request.resource} ${grantPhrase(request.durationMs)}`;
}
