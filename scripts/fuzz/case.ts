/** One fuzz session: what it sends, in order, and how it logs in. */

export type Step =
  /** Bytes written as they are (the socket coalesces what follows without a wait). */
  | { kind: "send"; label: string; bytes: Buffer }
  /** The password message carrying a token, made at run time (tokens expire; the seed cannot hold one). */
  | { kind: "token"; label: string; variant: "good" | "truncated" | "other-agent" | "doubled" }
  /** Waits for the server to answer (quiet for a moment, or a ReadyForQuery), at most `ms`. */
  | { kind: "await"; ms: number }
  /** A CancelRequest on a second connection, with this session's own key or a random one. */
  | { kind: "cancel"; label: string; which: "own" | "random" }
  /** The first `at` bytes of a message, then the socket is destroyed. */
  | { kind: "cut"; label: string; bytes: Buffer; at: number }
  /** Closes without a Terminate. */
  | { kind: "disconnect" };

export interface FuzzCase {
  /** The run's seed and this session's index in it: together they regenerate the case. */
  seed: number;
  index: number;
  scenario: string;
  resource: "demo" | "pg";
  agent: string;
  /** A normal login before the steps (an SSLRequest first if `ssl`), or none: the steps start the connection. */
  login?: { applicationName: string; ssl: boolean };
  steps: Step[];
  /** After the steps, whether to check the session still answers (a probe) or just end. */
  end: "probe" | "terminate" | "none";
}

export const describeStep = (step: Step): string => {
  switch (step.kind) {
    case "send":
      return step.label;
    case "token":
      return step.label;
    case "await":
      return `(await ${step.ms} ms)`;
    case "cancel":
      return step.label;
    case "cut":
      return `${step.label} cut after ${step.at} of ${step.bytes.length} bytes, then disconnect`;
    case "disconnect":
      return "(disconnect)";
  }
};

/** The case as lines a person can read, and the hex of each message sent, to replay it by hand. */
export function describeCase(c: FuzzCase): string {
  const login = c.login ? `login as ${c.agent} to ${c.resource} (application_name ${JSON.stringify(c.login.applicationName)}${c.login.ssl ? ", SSLRequest first" : ""})` : `raw connection (${c.agent}, ${c.resource})`;
  const lines = [`seed ${c.seed} session ${c.index} [${c.scenario}] ${login}`];
  for (const step of c.steps) {
    const bytes = step.kind === "send" ? step.bytes : step.kind === "cut" ? step.bytes.subarray(0, step.at) : undefined;
    const hex = bytes ? `  ${bytes.subarray(0, 96).toString("hex")}${bytes.length > 96 ? `…(${bytes.length} bytes)` : ""}` : "";
    lines.push(`  ${describeStep(step)}${hex}`);
  }
  lines.push(`  then ${c.end}`);
  return lines.join("\n");
}
