/**
 * A well-behaved agent (node-postgres) running one simple statement in a loop through the proxy,
 * timing each: its latency before the fuzz is the baseline its latency during the fuzz is held to.
 */
import pg from "pg";

export class HealthyClient {
  readonly errors: string[] = [];
  #samples: number[] = [];
  #running = true;
  #loop: Promise<void> | undefined;

  private constructor(
    private readonly client: pg.Client,
    readonly resource: string,
  ) {
    client.on("error", (err) => this.errors.push(`connection error: ${err.message}`));
  }

  static async connect(port: number, resource: string, agent: string, token: string): Promise<HealthyClient> {
    const client = new pg.Client({ host: "127.0.0.1", port, user: agent, password: token, database: resource, application_name: "fuzz-healthy" });
    await client.connect();
    return new HealthyClient(client, resource);
  }

  start(pauseMs = 20): void {
    this.#loop = (async () => {
      while (this.#running) {
        const started = performance.now();
        try {
          await this.client.query("select 1 as ok");
          this.#samples.push(performance.now() - started);
        } catch (err) {
          this.errors.push(err instanceof Error ? err.message : String(err));
          if (this.errors.length > 20) return;
        }
        await new Promise((r) => setTimeout(r, pauseMs));
      }
    })();
  }

  /** The samples since the last call, and a fresh start. */
  takeSamples(): number[] {
    const samples = this.#samples;
    this.#samples = [];
    return samples;
  }

  /** Stops the loop; a statement stuck in the proxy is given 5 s, then the connection is dropped. */
  async stop(): Promise<void> {
    this.#running = false;
    const finished = await Promise.race([this.#loop?.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 5000))]);
    if (!finished) this.errors.push("a statement was still unanswered when the run ended");
    await Promise.race([this.client.end().catch(() => undefined), new Promise((r) => setTimeout(r, 2000))]);
  }
}

export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}
