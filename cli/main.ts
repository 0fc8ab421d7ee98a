import { auditCommand } from "./audit";
import { breakGlassCommand } from "./break-glass";
import { mcpCommand } from "./mcp";
import { policyCommand } from "./policy";
import { grantsCommand, requestCommand } from "./request";
import { tokenCommand } from "./token";

interface Command {
  /** One line per form of the command, with what it does. */
  usage: Array<[string, string]>;
  run(args: string[]): Promise<number>;
}

const COMMANDS: Record<string, Command> = {
  token: {
    usage: [["airlock token <agent>", "print a fresh access token for a seeded agent (development IdP only)"]],
    run: tokenCommand,
  },
  policy: {
    usage: [
      ["airlock policy check [FILE]", "validate a policy file (exit 1 with the errors, by line and field)"],
      ["airlock policy explain --agent ID --resource NAME --sql SQL", "how a statement is classified and which rule decides it"],
    ],
    run: policyCommand,
  },
  request: {
    usage: [
      ["airlock request --resource NAME --access write --for 30m [--reason TEXT] [--wait] [--json]", "ask for time-boxed access as an agent; with --wait, print the DSN once approved"],
      ["airlock request status ID [--wait]", "where a request stands (exit 0 approved, 3 denied, 4 expired, 5 ended, 6 pending)"],
    ],
    run: requestCommand,
  },
  grants: {
    usage: [
      ["airlock grants [--json]", "the agent's grants in force"],
      ["airlock grants return ID", "give a grant back before it ends"],
    ],
    run: grantsCommand,
  },
  "break-glass": {
    usage: [["airlock break-glass --resource NAME --for DURATION --reason TEXT [--json]", "emergency access at once, without approval (policy break_glass); alerted, flagged, reviewed afterwards"]],
    run: breakGlassCommand,
  },
  mcp: {
    usage: [["airlock mcp [--agent ID]", "Airlock's MCP server on stdio, as the agent (for local MCP hosts)"]],
    run: mcpCommand,
  },
  audit: {
    usage: [
      ["airlock audit verify", "walk the audit chain: exit 0 with the count, or 1 naming the first row edited, deleted or moved"],
      ["airlock audit export [--format jsonl|csv] [--from T] [--to T]", "print the audit log (streamed)"],
    ],
    run: auditCommand,
  },
};

export function helpText(): string {
  const usages = Object.values(COMMANDS).flatMap((c) => c.usage);
  const width = Math.max(...usages.map(([u]) => u.length));
  return [
    "Usage: npx airlock <command> [options]",
    "",
    "Commands:",
    ...usages.map(([usage, summary]) => `  ${usage.padEnd(width)}  ${summary}`),
    "",
    "Settings come from the same environment as the server (AIRLOCK_PORT, AIRLOCK_PUBLIC_URL,",
    "AIRLOCK_DATA_DIR, AIRLOCK_POLICY, and .env in the current directory). Agent commands (request, grants,",
    "break-glass, mcp) act as the agent whose token is in AIRLOCK_TOKEN, or --agent ID (development IdP).",
  ].join("\n");
}

/** Runs one command and returns its exit code: 0 done, 1 failed, 2 used wrongly. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    console.log(helpText());
    return 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    console.error(`airlock: unknown command "${name}"\n\n${helpText()}`);
    return 2;
  }
  try {
    return await command.run(args);
  } catch (err) {
    console.error(`airlock ${name}: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}
