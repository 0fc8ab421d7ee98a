import { mergeOutputs } from "./lineage";
import { KINDS, type StatementInfo } from "./types";

/** Everything two statements do, as one: what a name may stand for when it is one of them. */
export function mergeStatements(a: StatementInfo | undefined, b: StatementInfo): StatementInfo {
  if (!a) return b;
  const union = <T>(x: readonly T[], y: readonly T[]) => [...new Set([...x, ...y])];
  return {
    ...b,
    kinds: union(a.kinds, b.kinds).sort((k1, k2) => KINDS.indexOf(k1) - KINDS.indexOf(k2)),
    reads: union(a.reads, b.reads),
    writes: union(a.writes, b.writes),
    functions: union(a.functions, b.functions),
    reasons: union(a.reasons, b.reasons),
    output: a.output && b.output ? mergeOutputs(a.output, b.output) : undefined,
  };
}
