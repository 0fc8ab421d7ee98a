import { spawn } from "node:child_process";
import { buildProxyIfNeeded, PROXY_BUILD } from "../../scripts/build-proxy";
import fs from "node:fs";
import path from "node:path";

export interface ProxyChild {
  pid: number;
  port: number;
  /** Asks the proxy to shut down (SIGTERM), then kills it if it has not exited in 5 s. */
  stop(): Promise<void>;
  /** How it exited, once it has (a soak tells a crash or a hung shutdown from a clean exit 0). */
  exit(): { code: number | null; signal: NodeJS.Signals | null } | undefined;
}

const LISTENING = /Airlock proxy listening on [\d.]+:(\d+)/;
const START_TIMEOUT_MS = 60_000;

/**
 * The standalone proxy (`npm run proxy`) as a child process, so that its memory is its own:
 * node runs it directly (no npm or shell in between), so the child's pid is the proxy's.
 * Its stderr is passed through, so errors in the proxy show up in the bench output.
 */
export async function startProxyChild(options: {
  repoRoot: string;
  dataDir: string;
  /** The policy file's text: the benchmark's resource and the rules that let its agent read. */
  policy: string;
  agentIssuer: string;
  /** Extra node flags for the proxy, e.g. --cpu-prof (not allowed in NODE_OPTIONS). */
  nodeArgs?: string[];
  /** More settings for the proxy, e.g. connection caps raised for a benchmark. */
  env?: Record<string, string>;
}): Promise<ProxyChild> {
  const policyPath = path.join(options.dataDir, "bench.policy.yaml");
  fs.writeFileSync(policyPath, options.policy);

  // `npm run proxy` as users run it: compiled ahead, on plain node.
  await buildProxyIfNeeded();
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), PROXY_BUILD], {
    cwd: options.repoRoot,
    env: {
      ...process.env,
      AIRLOCK_DATA_DIR: options.dataDir,
      AIRLOCK_POLICY: policyPath,
      AIRLOCK_PROXY_PORT: "0",
      AGENT_OIDC_ISSUER: options.agentIssuer,
      ...options.env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stderr.on("data", (chunk: Buffer) => process.stderr.write(`[proxy child] ${chunk.toString()}`));
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exited = new Promise<void>((resolve) =>
    child.once("exit", (code, signal) => {
      exit = { code, signal };
      resolve();
    }),
  );

  const port = await new Promise<number>((resolve, reject) => {
    let out: string | undefined = "";
    const timer = setTimeout(() => reject(new Error("the proxy did not start listening within 60 s")), START_TIMEOUT_MS);
    // Read stdout to the end (a full pipe would stall the proxy), keeping it only until the banner.
    child.stdout.on("data", (chunk: Buffer) => {
      if (out === undefined) return;
      out += chunk.toString();
      const match = LISTENING.exec(out);
      if (match) {
        out = undefined;
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the proxy exited before listening (code ${code}, signal ${signal})`));
    });
  }).catch(async (err: unknown) => {
    child.kill("SIGKILL");
    await exited;
    throw err;
  });

  return {
    pid: child.pid!,
    port,
    exit: () => exit,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}
