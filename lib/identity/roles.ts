import type { RoleGroups } from "../config";

export const ROLES = ["admin", "approver", "viewer"] as const;
export type Role = (typeof ROLES)[number];

/**
 * A person's role comes from their groups, strongest first. Anyone the identity provider lets
 * sign in is at least a viewer: the IdP, not Airlock, decides who may enter at all.
 */
export function roleForGroups(groups: readonly string[], mapping: RoleGroups): Role {
  if (groups.some((g) => mapping.admin.includes(g))) return "admin";
  if (groups.some((g) => mapping.approver.includes(g))) return "approver";
  return "viewer";
}

/** Reads a groups claim that IdPs send as an array, a single string, or a comma list. */
export function readGroupsClaim(value: unknown): string[] {
  if (Array.isArray(value)) return value.filter((g): g is string => typeof g === "string");
  if (typeof value === "string") return value.split(",").map((g) => g.trim()).filter(Boolean);
  return [];
}
