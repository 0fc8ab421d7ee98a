/** The fuzzer's handle on the proxy process: start it, ask it for tokens and figures, stop it, see it die. */
import { fork, type ChildProcess } from "node:child_process";
import type { ChildReport, ChildRequest, ProxyStats } from "./ipc";

type Pending = (report: ChildReport) => void;
type Request = ChildRequest extends infer R ? (R extends { id: number } ? Omit<R, "id"> : never) : never;

export class ProxyProcess {
  readonly faults: string[] = [];
  exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  #next = 1;
  readonly #pending = new Map<number, Pending>();
  readonly #tokens = new Map<string, string>();

  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
    readonly stderr: () => string,
  ) {
    // A request sent as the child dies fails here, not as an unhandled 'error' that ends the fuzzer.
    child.on("error", (err) => this.faults.push(`the proxy process could not be reached: ${err.message}`));
    child.on("message", (report: ChildReport) => {
      if (report.type === "fault") this.faults.push(report.text);
      else if ("id" in report) {
        this.#pending.get(report.id)?.(report);
        this.#pending.delete(report.id);
      }
    });
  }

  static async start(env: { pgUrl?: string; seed: number; log: string }): Promise<ProxyProcess> {
    const child = fork(new URL("./proxy-child.ts", import.meta.url).pathname, [], {
      execArgv: ["--import", "tsx", "--expose-gc"],
      env: { ...process.env, FUZZ_PG_URL: env.pgUrl ?? "", FUZZ_SEED: String(env.seed), FUZZ_LOG: env.log },
      stdio: ["ignore", "inherit", "pipe", "ipc"],
    });
    let stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-20_000)));
    const port = await new Promise<number>((resolve, reject) => {
      child.on("message", (report: ChildReport) => report.type === "ready" && resolve(report.port));
      child.once("exit", (code) => reject(new Error(`the proxy process exited (${code}) before it was ready:\n${stderr}`)));
    });
    const proxy = new ProxyProcess(child, port, () => stderr);
    child.on("exit", (code, signal) => (proxy.exit = { code, signal }));
    return proxy;
  }

  #ask(request: Request, timeoutMs = 60_000): Promise<ChildReport> {
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      if (this.exit) return reject(new Error(`the proxy process is gone (${JSON.stringify(this.exit)})`));
      const timer = setTimeout(() => reject(new Error(`the proxy process did not answer ${request.type} in ${timeoutMs} ms`)), timeoutMs);
      this.#pending.set(id, (report) => {
        clearTimeout(timer);
        resolve(report);
      });
      this.child.send({ ...request, id } as ChildRequest);
    });
  }

  /** Fetches fresh tokens for the agents; token() then answers at once. */
  async refreshTokens(agents: readonly string[]): Promise<void> {
    for (const agent of agents) {
      const report = await this.#ask({ type: "token", agent });
      if (report.type === "token") this.#tokens.set(agent, report.token);
    }
  }

  token(agent: string): string {
    return this.#tokens.get(agent) ?? "";
  }

  async stats(): Promise<ProxyStats> {
    const report = await this.#ask({ type: "stats" });
    if (report.type !== "stats") throw new Error(`unexpected answer ${report.type}`);
    const { type: _type, id: _id, ...stats } = report;
    return stats;
  }

  async close(): Promise<void> {
    if (this.exit) return;
    await this.#ask({ type: "close" }, 60_000).catch(() => this.child.kill("SIGKILL"));
  }
}
