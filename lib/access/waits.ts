/** The longest a long-poll holds a request open: below common HTTP client and MCP host timeouts. */
export const MAX_WAIT_SECONDS = 30;
/** Waiting long-polls one agent may hold open at once, unless configured otherwise. */
export const DEFAULT_WAITS_PER_AGENT = 4;

/** `?wait=` in seconds: absent or 0 answers at once; more than MAX_WAIT_SECONDS is cut to it. */
export function parseWait(raw: string | null): { ok: true; seconds: number } | { ok: false; message: string } {
  if (raw === null || raw === "") return { ok: true, seconds: 0 };
  const seconds = Number(raw);
  if (!Number.isFinite(seconds) || seconds < 0) return { ok: false, message: `wait: seconds from 0 to ${MAX_WAIT_SECONDS}, got "${raw.slice(0, 20)}"` };
  return { ok: true, seconds: Math.min(seconds, MAX_WAIT_SECONDS) };
}

/**
 * Counts each agent's waiting long-polls so a misbehaving client cannot hold the server's
 * memory and sockets: past the limit, a wait is refused (429) instead of queued.
 */
export class WaitLimiter {
  readonly #waiting = new Map<string, number>();

  constructor(readonly perAgent: number) {}

  /** A release function when the agent may wait now; undefined when it already waits too often. */
  enter(agentId: string): (() => void) | undefined {
    const now = this.#waiting.get(agentId) ?? 0;
    if (now >= this.perAgent) return undefined;
    this.#waiting.set(agentId, now + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.#waiting.get(agentId) ?? 1) - 1;
      if (left > 0) this.#waiting.set(agentId, left);
      else this.#waiting.delete(agentId);
    };
  }

  waiting(agentId: string): number {
    return this.#waiting.get(agentId) ?? 0;
  }
}

/**
 * A signal that aborts after `ms` or when `outer` does. Built from a timer and a controller, not
 * AbortSignal.any(AbortSignal.timeout()): on Node 20 such a composite signal can be collected
 * before its timeout fires, and the wait it guards would never end. Call `done` when finished.
 */
export function deadline(ms: number, outer?: AbortSignal): { signal: AbortSignal; done(): void } {
  const controller = new AbortController();
  const abort = () => controller.abort();
  const timer = setTimeout(abort, ms);
  outer?.addEventListener("abort", abort, { once: true });
  if (outer?.aborted) abort();
  return {
    signal: controller.signal,
    done() {
      clearTimeout(timer);
      outer?.removeEventListener("abort", abort);
    },
  };
}
