import { tokenCommand } from "./token";

interface Command {
  usage: string;
  summary: string;
  run(args: string[]): Promise<number>;
}

const COMMANDS: Record<string, Command> = {
  token: {
    usage: "airlock token <agent>",
    summary: "print a fresh access token for a seeded agent (development IdP only)",
    run: tokenCommand,
  },
};

export function helpText(): string {
  const width = Math.max(...Object.values(COMMANDS).map((c) => c.usage.length));
  return [
    "Usage: npx airlock <command> [options]",
    "",
    "Commands:",
    ...Object.values(COMMANDS).map((c) => `  ${c.usage.padEnd(width)}  ${c.summary}`),
    "",
    "Settings come from the same environment as the server (AIRLOCK_PORT, AIRLOCK_PUBLIC_URL,",
    "AIRLOCK_DATA_DIR, and .env in the current directory).",
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
