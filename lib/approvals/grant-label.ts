import { KINDS, type Kind } from "../sql/types";
import { ALL_TABLES, grantableScope, type ScopePair } from "./grant-scope";
import { formatDuration } from "../policy/duration";

/** How a grant choice reads, alike on the web and in Slack: "once", "for 15 min", "for 1 h". */
export function grantPhrase(option: "once" | number | null): string {
  if (option === "once" || option === null) return "once";
  return `for ${durationPhrase(option)}`;
}

/** A length for people: "15 min", "1 h", "90 s". */
export function durationPhrase(ms: number): string {
  if (ms % 60_000 !== 0) return `${Math.round(ms / 1000)} s`;
  const minutes = ms / 60_000;
  return minutes % 60 === 0 ? `${minutes / 60} h` : `${minutes} min`;
}

/** The label of an approve button: "Approve once", "Approve for 15 min". */
export function approveLabel(option: "once" | number): string {
  return `Approve ${grantPhrase(option)}`;
}

/**
 * A scope for people, kinds grouped by the tables they reach: "update orders · read customers",
 * "read/insert every table", "call (no table)". Tables of the `public` schema go unqualified.
 */
export function scopePhrase(scope: readonly ScopePair[]): string {
  const tablesByKind = new Map<Kind, string[]>();
  for (const kind of KINDS) {
    const tables = [...new Set(scope.filter((p) => p.kind === kind).map((p) => p.table))].sort().map(tableWord);
    if (tables.length > 0) tablesByKind.set(kind, tables);
  }
  const kindsByTables = new Map<string, string[]>();
  for (const [kind, tables] of tablesByKind) {
    const key = tables.join(", ");
    kindsByTables.set(key, [...(kindsByTables.get(key) ?? []), kindWord(kind)]);
  }
  return [...kindsByTables].map(([tables, kinds]) => `${kinds.join("/")} ${tables}`).join(" · ") || "nothing";
}

function kindWord(kind: Kind): string {
  return kind === "select" ? "read" : kind.replace("_", " ");
}

function tableWord(table: string | null): string {
  if (table === null) return "(no table)";
  if (table === ALL_TABLES) return "every table";
  return table.startsWith("public.") ? table.slice("public.".length) : table;
}

/**
 * What approving a held statement for a time would not grant, for approvers to read before they
 * choose: its pairs on no table (and `unknown`) are left out of any grant. Undefined when a grant
 * would hold the whole scope.
 */
export function grantShortfall(scope: readonly ScopePair[]): string | undefined {
  const granted = grantableScope(scope);
  if (granted.length === scope.length) return undefined;
  const left = scope.filter((p) => !granted.includes(p));
  return `approving for a time grants ${granted.length > 0 ? `only ${scopePhrase(granted)}` : "nothing"}: ${scopePhrase(left)} is reviewed each time`;
}

/** The longest grant a held statement's rule offers ("1h"), which an approver may shorten; undefined when it offers none. */
export function longestGrant(request: { kind: string; grantOptions: ReadonlyArray<"once" | number> }): string | undefined {
  const lengths = request.grantOptions.filter((o): o is number => o !== "once");
  if (request.kind !== "statement" || lengths.length === 0) return undefined;
  return formatDuration(Math.max(...lengths));
}
