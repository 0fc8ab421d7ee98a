import { grantPhrase } from "../approvals/grant-label";
import type { AccessRequest } from "../db/schema";
import { coversAllTables, levelOf } from "./scope";

/** How access asked for reads, alike on the web and in Slack: "write access to demo for 15 min". */
export function accessPhrase(request: Pick<AccessRequest, "kinds" | "resource" | "durationMs">): string {
  return `${levelOf(request.kinds) ?? request.kinds.join(", ")} access to ${request.resource} ${grantPhrase(request.durationMs)}`;
}

/** A request's tables for people: "every table" for a grant over all of them. */
export function tablesPhrase(request: Pick<AccessRequest, "tables">): string {
  return coversAllTables(request) ? "every table" : request.tables.join(", ") || "none";
}
