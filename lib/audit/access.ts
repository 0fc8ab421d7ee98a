import type { Role } from "../identity/roles";

/**
 * Who may take the audit log out of Airlock: admins only. An export is every statement's SQL and
 * parameters at once, more than any one page shows; reading the log in the dashboard stays open
 * to everyone who signs in. Returns why not, or undefined when they may.
 */
export function whyNotAuditExporter(person: { role: Role } | undefined): "signed-out" | "not-admin" | undefined {
  if (!person) return "signed-out";
  return person.role === "admin" ? undefined : "not-admin";
}
