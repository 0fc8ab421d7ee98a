import type { Classification } from "./types";

/** A statement Airlock cannot see into: the strictest kind, with the reason why. */
export function unknownClassification(text: string, reason: string): Classification {
  return { kind: "unknown", statements: [{ text, kinds: ["unknown"], reads: [], writes: [], functions: [], reasons: [reason] }] };
}
