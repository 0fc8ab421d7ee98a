import { z } from "zod";
import { DurationText, parseDuration } from "./duration";

/**
 * Emergency access (top-level `break_glass:`): an agent in one of `groups` may take a grant at
 * once, without approval, for at most `max`. It stands in for review only: a deny rule still
 * refuses (lib/decision/decide.ts asks grants only of statements a rule holds for review).
 * Top level, not per rule or resource: who may break the glass is a question of who, not of what,
 * and one place to read it keeps it auditable.
 */
export interface BreakGlassOptions {
  groups: string[];
  maxMs: number;
  reasonRequired: boolean;
}

/** Break-glass is for an incident, not a standing bypass: no grant of it outlasts this. */
export const MAX_BREAK_GLASS_MS = 24 * 3_600_000;

export const BreakGlassSchema = z.strictObject({
  groups: z.array(z.string().min(1)).min(1),
  max: DurationText.default("1h").refine((v) => (parseDuration(v) ?? 0) <= MAX_BREAK_GLASS_MS, "break-glass lasts at most 24h"),
  reason: z.enum(["required", "optional"]).default("required"),
});

export function breakGlassOf(parsed: z.infer<typeof BreakGlassSchema> | undefined): BreakGlassOptions | undefined {
  return parsed && { groups: parsed.groups, maxMs: parseDuration(parsed.max)!, reasonRequired: parsed.reason === "required" };
}
