/** What a run found, each once per kind and message, with the case that showed it first. */
import type { FuzzCase } from "./case";
import type { CaseOutcome } from "./run-case";

export interface Finding {
  kind: "internal error" | "stuck session" | "malformed answer" | "proxy fault" | "proxy crash" | "sessions left open" | "logging" | "memory" | "latency" | "healthy client" | "policy loader";
  message: string;
  case?: FuzzCase;
  count: number;
}

export class Findings {
  readonly #byKey = new Map<string, Finding>();

  add(kind: Finding["kind"], message: string, c?: FuzzCase): void {
    // Ids, pids and timings differ between occurrences of the same fault.
    const key = `${kind}: ${message.replace(/[0-9a-f]{8}-[0-9a-f-]{27}|\d+/g, "#")}`.slice(0, 300);
    const known = this.#byKey.get(key);
    if (known) known.count++;
    else this.#byKey.set(key, { kind, message, case: c, count: 1 });
  }

  fromOutcome(c: FuzzCase, outcome: CaseOutcome): void {
    for (const message of outcome.internalErrors) this.add("internal error", message, c);
    if (outcome.stuck) this.add("stuck session", outcome.stuck, c);
    if (outcome.malformed) this.add("malformed answer", outcome.malformed, c);
  }

  get all(): Finding[] {
    return [...this.#byKey.values()];
  }
}

/** Whether an outcome shows the same kind of fault as the finding, for the minimizer. */
export function sameFault(finding: Finding, outcome: CaseOutcome): boolean {
  switch (finding.kind) {
    case "internal error":
      return outcome.internalErrors.length > 0;
    case "stuck session":
      return outcome.stuck !== undefined;
    case "malformed answer":
      return outcome.malformed !== undefined;
    default:
      return false;
  }
}
