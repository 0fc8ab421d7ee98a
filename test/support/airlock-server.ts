import { spawn, type ChildProcess } from "node:child_process";
import { makeTempDir } from "./temp-dir";

export interface RunningAirlock {
  url: string;
  port: number;
  dataDir: string;
  /** Everything the server printed so far. */
  output(): string;
  /** The started process's exit code (null when a signal ended it), once it has exited. */
  exited: Promise<number | null>;
  /** Stops the server (SIGTERM: a clean shutdown; SIGKILL: a crash) and removes a temp data dir. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export interface StartOptions {
  /** Reuse a data dir (restarts); by default a fresh temp dir, removed on stop. */
  dataDir?: string;
  env?: Record<string, string>;
  /** The command that starts Airlock; `npm start` is the contract users rely on. */
  command?: string[];
}

const STARTUP_TIMEOUT_MS = 120_000;

/** Starts Airlock as users do, on free ports, and resolves once its banner is printed. */
export async function startAirlock(options: StartOptions = {}): Promise<RunningAirlock> {
  const temp = options.dataDir ? undefined : makeTempDir("data");
  const dataDir = options.dataDir ?? temp!.path;
  const [cmd, ...args] = options.command ?? ["npm", "start", "--silent"];
  const child = spawn(cmd, args, {
    detached: true, // its own process group, so stop() ends npm and the server together
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...process.env,
      AIRLOCK_PORT: "0",
      AIRLOCK_PROXY_PORT: "0",
      AIRLOCK_DATA_DIR: dataDir,
      NEXT_TELEMETRY_DISABLED: "1",
      ...options.env,
    },
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  let output = "";
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));

  const port = await waitForBanner(child, () => output);
  return {
    url: `http://localhost:${port}`,
    port,
    dataDir,
    output: () => output,
    exited,
    async stop(signal: NodeJS.Signals = "SIGTERM") {
      await stopProcessGroup(child, signal);
      temp?.remove();
    },
  };
}

function waitForBanner(child: ChildProcess, output: () => string): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`Airlock did not start within ${STARTUP_TIMEOUT_MS} ms`)), STARTUP_TIMEOUT_MS);
    const poll = setInterval(() => {
      const match = /Dashboard\s+\S+\s+\(port (\d+)\)/.exec(output());
      if (match) done(() => resolve(Number(match[1])));
    }, 50);
    const onExit = (code: number | null) => fail(new Error(`Airlock exited with ${code} before it was ready`));
    child.once("exit", onExit);
    function done(then: () => void) {
      clearTimeout(timer);
      clearInterval(poll);
      child.off("exit", onExit);
      then();
    }
    function fail(err: Error) {
      done(() => {
        stopProcessGroup(child).catch(() => undefined);
        reject(new Error(`${err.message}\n--- output ---\n${output()}`));
      });
    }
  });
}

async function stopProcessGroup(child: ChildProcess, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid!, signal);
  } catch {
    return;
  }
  // npm exits before the server it started has finished shutting down: wait for the whole group.
  const deadline = Date.now() + 10_000;
  let killed = false;
  while (groupAlive(child.pid!)) {
    if (!killed && Date.now() > deadline) {
      process.kill(-child.pid!, "SIGKILL");
      killed = true;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}
