import { z } from "zod";
import { DurationText, formatDuration, parseDuration } from "./duration";

/**
 * A rule's budgets (`limits:` on allow and review rules), per agent: how many statements a minute
 * it may send under the rule, how many rows and bytes one statement's result may bring back, and
 * how long one statement may run. `onLimit` says what a result over its rows or bytes becomes: an
 * error (the default), or the rows so far with a notice.
 */
export interface RuleLimits {
  statementsPerMinute?: number;
  maxRows?: number;
  maxResultBytes?: number;
  statementTimeoutMs?: number;
  onLimit: "error" | "truncate";
}

/** The limits one statement runs under, with the rule each came from (for the words to the agent). */
export interface StatementLimits {
  maxRows?: { value: number; rule: string };
  maxResultBytes?: { value: number; rule: string };
  statementTimeoutMs?: { value: number; rule: string };
  onLimit: "error" | "truncate";
}

/** The budgets' names as the policy file writes them; messages and the audit trail use them too. */
export type LimitName = "statements_per_minute" | "max_rows" | "max_result_bytes" | "statement_timeout";

/** Far above any sensible budget, below what a counter or a timer could get wrong. */
export const MAX_STATEMENTS_PER_MINUTE = 100_000;
export const MAX_LIMIT_ROWS = 1_000_000_000;
export const MAX_LIMIT_BYTES = 1024 ** 4;
/** setTimeout's own ceiling (about 24.8 days). */
export const MAX_STATEMENT_TIMEOUT_MS = 2 ** 31 - 1;

const BYTE_UNITS: Record<string, number> = { b: 1, kb: 1000, mb: 1000 ** 2, gb: 1000 ** 3, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3 };

/** 52428800, "50MB", "512 KiB", "1GB" → bytes (kB/MB/GB decimal, KiB/MiB/GiB binary); undefined for anything else. */
export function parseBytes(value: number | string): number | undefined {
  if (typeof value === "number") return Number.isSafeInteger(value) && value > 0 ? value : undefined;
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]+)?$/i.exec(value.trim());
  if (!match) return undefined;
  const unit = BYTE_UNITS[(match[2] ?? "b").toLowerCase()];
  const bytes = unit === undefined ? NaN : Math.floor(Number(match[1]) * unit);
  return Number.isSafeInteger(bytes) && bytes > 0 ? bytes : undefined;
}

/** "52428800 bytes" as people write it back: "50MB", "512KiB", else bytes. */
export function formatBytes(bytes: number): string {
  for (const [unit, size] of [["GiB", 1024 ** 3], ["GB", 1000 ** 3], ["MiB", 1024 ** 2], ["MB", 1000 ** 2], ["KiB", 1024], ["kB", 1000]] as const) {
    if (bytes >= size && bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return `${bytes} bytes`;
}

const positiveInt = (max: number, what: string) =>
  z.number({ error: `${what}: a whole number` }).int(`${what}: a whole number`).min(1, `${what}: at least 1`).max(max, `${what}: at most ${max}`);

export const LimitsSchema = z
  .strictObject({
    statements_per_minute: positiveInt(MAX_STATEMENTS_PER_MINUTE, "statements a minute").optional(),
    max_rows: positiveInt(MAX_LIMIT_ROWS, "rows").optional(),
    max_result_bytes: z
      .union([z.number(), z.string()])
      .refine((v) => parseBytes(v) !== undefined, "a size such as 50MB, 512KiB or a number of bytes")
      .refine((v) => (parseBytes(v) ?? 0) <= MAX_LIMIT_BYTES, "at most 1TiB")
      .optional(),
    statement_timeout: DurationText.refine((v) => (parseDuration(v) ?? 0) <= MAX_STATEMENT_TIMEOUT_MS, "at most 24d").optional(),
    on_limit: z.enum(["error", "truncate"]).default("error"),
  })
  .refine((l) => l.statements_per_minute ?? l.max_rows ?? l.max_result_bytes ?? l.statement_timeout, {
    message: "limits needs at least one of statements_per_minute, max_rows, max_result_bytes, statement_timeout",
  })
  .refine((l) => l.on_limit === "error" || l.max_rows !== undefined || l.max_result_bytes !== undefined, {
    message: "on_limit: truncate applies to max_rows and max_result_bytes; set one of them",
    path: ["on_limit"],
  });

export function limitsOf(parsed: z.infer<typeof LimitsSchema> | undefined): RuleLimits | undefined {
  if (!parsed) return undefined;
  return {
    ...(parsed.statements_per_minute !== undefined ? { statementsPerMinute: parsed.statements_per_minute } : {}),
    ...(parsed.max_rows !== undefined ? { maxRows: parsed.max_rows } : {}),
    ...(parsed.max_result_bytes !== undefined ? { maxResultBytes: parseBytes(parsed.max_result_bytes)! } : {}),
    ...(parsed.statement_timeout !== undefined ? { statementTimeoutMs: parseDuration(parsed.statement_timeout)! } : {}),
    onLimit: parsed.on_limit,
  };
}

/**
 * The limits a statement runs under, from the rules that decided each statement of its text: the
 * strictest of each, and an error over a truncation when they differ (failing is the safe side).
 */
export function statementLimits(rules: ReadonlyArray<{ name: string; limits?: RuleLimits } | undefined>): StatementLimits | undefined {
  let out: StatementLimits | undefined;
  for (const rule of rules) {
    const limits = rule?.limits;
    if (!limits || (limits.maxRows ?? limits.maxResultBytes ?? limits.statementTimeoutMs) === undefined) continue;
    out ??= { onLimit: "truncate" };
    if (limits.onLimit === "error" && (limits.maxRows ?? limits.maxResultBytes) !== undefined) out.onLimit = "error";
    const pick = (key: "maxRows" | "maxResultBytes" | "statementTimeoutMs") => {
      const value = limits[key];
      if (value !== undefined && (out![key] === undefined || value < out![key]!.value)) out![key] = { value, rule: rule.name };
    };
    pick("maxRows");
    pick("maxResultBytes");
    pick("statementTimeoutMs");
  }
  if (out && !out.maxRows && !out.maxResultBytes) out.onLimit = "error";
  return out;
}

/** A budget as the policy wrote it: "max_rows 10000", "max_result_bytes 50MB", "statement_timeout 30s". */
export function describeLimit(name: LimitName, value: number): string {
  if (name === "max_result_bytes") return `${name} ${formatBytes(value)}`;
  if (name === "statement_timeout") return `${name} ${formatDuration(value)}`;
  return `${name} ${value}`;
}
