import { z } from "zod";
import { ALL_TABLES } from "../approvals/grant-scope";
import { parseDuration } from "../policy/duration";
import { ACCESS_LEVELS, ASKABLE_KINDS, qualifyTable, type AccessScope } from "./scope";

/** Longest reason kept: it is shown to people in the queue and in Slack. */
export const MAX_REASON_CHARS = 1000;
/** Most tables one request may name; ask for every table instead. */
export const MAX_TABLES = 50;

/** What an agent asks for: the body of `POST /api/v1/access-requests`, the `request_access` tool's input. */
export const AskSchema = z
  .strictObject({
    resource: z.string().min(1).max(100),
    access: z.enum(Object.keys(ACCESS_LEVELS) as [keyof typeof ACCESS_LEVELS]).optional(),
    kinds: z.array(z.enum(ASKABLE_KINDS as [string, ...string[]])).min(1).max(ASKABLE_KINDS.length).optional(),
    tables: z.array(z.string().min(1).max(200)).min(1).max(MAX_TABLES).optional(),
    duration: z.string().refine((d) => parseDuration(d) !== undefined, "a duration such as 30m, 2h or 90s"),
    reason: z.string().trim().max(MAX_REASON_CHARS).optional(),
  })
  .refine((a) => (a.access === undefined) !== (a.kinds === undefined), { message: 'give either access ("read", "write" or "admin") or kinds', path: ["access"] });
export type Ask = z.infer<typeof AskSchema>;

export interface ParsedAsk {
  resource: string;
  scope: AccessScope;
  durationMs: number;
  reason: string | undefined;
}

export type ParseResult = { ok: true; ask: ParsedAsk } | { ok: false; message: string };

/** Reads an ask from untrusted JSON, with a message that names the field. */
export function parseAsk(body: unknown): ParseResult {
  const parsed = AskSchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { ok: false, message: `${issue.path.length > 0 ? `${issue.path.join(".")}: ` : ""}${issue.message}` };
  }
  const a = parsed.data;
  const tables: string[] = [];
  for (const name of a.tables ?? [ALL_TABLES]) {
    const table = name === ALL_TABLES ? ALL_TABLES : qualifyTable(name);
    if (!table) return { ok: false, message: `tables: "${name.slice(0, 60)}" is not a table name (letters, digits, _ and $, optionally schema.table)` };
    if (!tables.includes(table)) tables.push(table);
  }
  const kinds = [...new Set(a.access ? ACCESS_LEVELS[a.access] : (a.kinds as AccessScope["kinds"]))];
  return {
    ok: true,
    ask: {
      resource: a.resource,
      scope: { kinds, tables: tables.includes(ALL_TABLES) ? [ALL_TABLES] : tables.sort() },
      durationMs: parseDuration(a.duration)!,
      reason: a.reason || undefined,
    },
  };
}
