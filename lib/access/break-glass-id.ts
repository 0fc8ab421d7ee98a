import { randomBytes } from "node:crypto";

/**
 * A break-glass use and its grant share one id, `bg_…`. Statements record the grant they ran
 * under (statements.grant_id, the audit row's grantId), so the prefix flags each of them as run
 * under break-glass, in the hashed audit chain, with no lookup.
 */
const PREFIX = "bg_";

export function newBreakGlassId(): string {
  return `${PREFIX}${randomBytes(6).toString("hex")}`;
}

export function isBreakGlass(grantId: string | null | undefined): boolean {
  return grantId?.startsWith(PREFIX) ?? false;
}
