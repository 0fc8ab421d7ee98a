import { spawn } from "node:child_process";
import { buildProxyIfNeeded, PROXY_BUILD } from "../../scripts/build-proxy";

export interface StandaloneProxy {
  port: number;
  output(): string;
  /** The process's exit code (null when a signal ended it), once it has exited. */
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

const STARTUP_TIMEOUT_MS = 60_000;

/** `npm run proxy` as its own process beside a running Airlock (same data dir), on a free port: compiled, as users run it. */
export async function startStandaloneProxy(dataDir: string, env: Record<string, string> = {}): Promise<StandaloneProxy> {
  await buildProxyIfNeeded();
  const child = spawn(process.execPath, [PROXY_BUILD], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, AIRLOCK_DATA_DIR: dataDir, AIRLOCK_PROXY_PORT: "0", ...env },
  });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  // "close", not "exit": by then its output is read to the end (what it wrote while exiting too).
  const exited = new Promise<number | null>((resolve) => child.once("close", (code) => resolve(code)));
  const port = await new Promise<number>((resolve, reject) => {
    const started = Date.now();
    const poll = setInterval(() => {
      const match = /Airlock proxy listening on \S+:(\d+)/.exec(output);
      const failed = child.exitCode !== null || Date.now() - started > STARTUP_TIMEOUT_MS;
      if (!match && !failed) return;
      clearInterval(poll);
      if (match) resolve(Number(match[1]));
      else reject(new Error(`the standalone proxy did not start\n--- output ---\n${output}`));
    }, 50);
  });
  return {
    port,
    output: () => output,
    exited,
    async stop(signal: NodeJS.Signals = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}
