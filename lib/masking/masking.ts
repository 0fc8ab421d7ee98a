/**
 * Which masking applies to a statement's results, from policy: the allow rule that decided each
 * statement names its `mask`; a statement that runs because people approved it (or under a grant)
 * is masked as every allow rule for this agent would mask it, since approval never lifts masking.
 */
import { requesterMismatch, type Requester } from "../policy/evaluate";
import { anyGlobMatches } from "../policy/glob";
import type { MaskOptions, Policy } from "../policy/policy-file";
import { mergeOutputs } from "../sql/lineage";
import type { OutputLineage } from "../sql/types";

/** Masking for one statement of a SQL text: its rules and where its result's columns come from. */
export interface StatementMasking {
  mask: MaskOptions;
  output: OutputLineage;
}

/** Per statement of the text, in order; undefined where nothing is masked. */
export type ResultMasking = ReadonlyArray<StatementMasking | undefined>;

const STRATEGY_STRICTNESS = { partial: 0, hash: 1, redact: 2, null: 3 } as const;

export function hasMasking(mask: MaskOptions | undefined): mask is MaskOptions {
  return !!mask && (mask.columns.length > 0 || mask.detect.length > 0);
}

/** The masks of every allow rule that applies to this agent on this resource, whatever the statement. */
export function requesterMask(policy: Policy, who: Requester): MaskOptions | undefined {
  const masks = policy.rules.filter((r) => r.action === "allow" && hasMasking(r.mask) && !requesterMismatch(r, who)).map((r) => r.mask!);
  return masks.length > 0 ? masks.reduce(mergeMasks) : undefined;
}

/** Both masks at once: every column and detector of either, the stricter strategy. */
export function mergeMasks(a: MaskOptions, b: MaskOptions): MaskOptions {
  return {
    columns: [...new Set([...a.columns, ...b.columns])],
    detect: [...new Set([...a.detect, ...b.detect])],
    strategy: STRATEGY_STRICTNESS[a.strategy] >= STRATEGY_STRICTNESS[b.strategy] ? a.strategy : b.strategy,
  };
}

/**
 * Whether a source column (`schema.table.column`) is masked: a pattern is matched against as many
 * trailing parts as it has (`customers.email`, `*.ssn`, `public.customers.email`).
 */
export function columnMasked(patterns: readonly string[], source: string): boolean {
  return patterns.some((pattern) => {
    const parts = pattern.split(".").length;
    const tail = source.split(".").slice(-parts).join(".");
    return anyGlobMatches([pattern], tail);
  });
}

/** What a statement that may be either of two texts must be masked as: both, statement by statement. */
export function combineMasking(a: ResultMasking | undefined, b: ResultMasking | undefined): ResultMasking | undefined {
  if (!a || !b) return a ?? b;
  return Array.from({ length: Math.max(a.length, b.length) }, (_, i) => {
    const [x, y] = [a[i], b[i]];
    if (!x || !y) return x ?? y;
    return { mask: mergeMasks(x.mask, y.mask), output: mergeOutputs(x.output, y.output) };
  });
}

/** What masking would do to one result column, for people reading an explanation. */
export interface ColumnMaskingPreview {
  column: string;
  effect: "masked" | "searched" | "unchanged";
  /** The masked source columns (or "untraced") that make it masked. */
  because: string[];
}

/** Column by column, what a statement's result would get (the server may add origins at run time). */
export function previewMasking(mask: MaskOptions, output: OutputLineage): ColumnMaskingPreview[] {
  const columns = output.columns ?? [{ ...output.all, name: "every column" }];
  return columns.map((c) => {
    const because = [...c.sources.filter((s) => columnMasked(mask.columns, s)), ...(c.unknown && mask.columns.length > 0 ? ["untraced"] : [])];
    const effect = because.length > 0 ? "masked" : mask.detect.length > 0 ? "searched" : "unchanged";
    return { column: c.name ?? "?column?", effect, because };
  });
}
