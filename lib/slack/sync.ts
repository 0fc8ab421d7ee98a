import { webApi } from "@slack/bolt";
import type { ApprovalService } from "../approvals/service";
import type { AccessRequest, RequestDecision } from "../db/schema";
import type { EventBus } from "../events/bus";
import { requestMessage, rollupMessage } from "./blocks";
import type { SlackMessageStore } from "./message-store";
import { describeSlackError, retryDelay } from "./retry";
import type { SlackRollupStore } from "./rollup-store";
import { PostThrottle } from "./throttle";

export interface SlackSyncOptions {
  client: webApi.WebClient;
  messages: SlackMessageStore;
  rollups: SlackRollupStore;
  approvals: Pick<ApprovalService, "get" | "decisions">;
  bus: EventBus;
  /** Where a request's message goes: its rule's `slack_channel`, else SLACK_CHANNEL. */
  channelFor(request: AccessRequest): string | undefined;
  requestUrl(requestId: string): string;
  /** One agent's pending requests in the dashboard: where the requests of a summary are decided. */
  queueUrl(agentId: string): string;
  /** When to try again after a failure; retryDelay unless a test needs it faster. */
  delay?: typeof retryDelay;
}

/** What a message shows, compared to know whether it needs an update. */
function shownOf(request: AccessRequest, decisions: readonly RequestDecision[]): string {
  return `${request.status}:${decisions.length}`;
}

/**
 * Keeps one Slack message per request in step with it: posts when a request opens, updates it on
 * every change, from the web or from Slack. It runs beside the data path, never in it: a bus
 * event only queues work, calls are retried with backoff (honouring Retry-After), and each call
 * renders the request as it is by then, so a late retry never shows an old state. A burst from one
 * agent is rolled up into one summary message per channel (lib/slack/throttle).
 */
export class SlackSync {
  /** Per request (and per summary) at most one job; a change during it makes the job run once more. */
  readonly #jobs = new Map<string, { again: boolean; done: Promise<void> }>();
  /** A rate limit holds every call until Slack's Retry-After has passed, not only the one that met it. */
  #notBefore = 0;
  readonly #throttle = new PostThrottle();
  #closed = false;
  #unsubscribe: (() => void) | undefined;

  constructor(private readonly options: SlackSyncOptions) {}

  start(): this {
    this.#unsubscribe = this.options.bus.subscribe((event) => {
      if (event.type === "request.changed") this.queue(event.requestId);
    });
    // Changes made while nobody listened (requests cancelled at start, a call cut short by a crash).
    for (const requestId of this.options.messages.outOfDate()) this.queue(requestId);
    for (const { channel, agentId } of this.options.rollups.counting()) this.#queueRollup(channel, agentId);
    return this;
  }

  queue(requestId: string): void {
    this.#run(requestId, `the message of ${requestId}`, () => this.#sync(requestId));
  }

  #queueRollup(channel: string, agentId: string): void {
    this.#run(`rollup\n${channel}\n${agentId}`, `${agentId}'s summary in ${channel}`, () => this.#syncRollup(channel, agentId));
  }

  #run(key: string, what: string, work: () => Promise<void>): void {
    const running = this.#jobs.get(key);
    if (running) {
      running.again = true;
      return;
    }
    const job = { again: true, done: Promise.resolve() };
    job.done = (async () => {
      try {
        while (job.again && !this.#closed) {
          job.again = false;
          await work();
        }
      } catch (err) {
        console.error(`[slack] keeping ${what} in step failed:`, err);
      } finally {
        this.#jobs.delete(key);
      }
    })();
    this.#jobs.set(key, job);
  }

  /** Resolves once no job is running (tests, and a tidy shutdown). */
  async idle(): Promise<void> {
    while (this.#jobs.size > 0) await Promise.all([...this.#jobs.values()].map((j) => j.done));
  }

  close(): void {
    this.#closed = true;
    this.#unsubscribe?.();
  }

  async #sync(requestId: string): Promise<void> {
    const { approvals, messages, client } = this.options;
    for (let attempt = 1; !this.#closed; attempt++) {
      await this.#rateLimit();
      const request = approvals.get(requestId);
      if (!request) return;
      const decisions = approvals.decisions(requestId);
      const shown = shownOf(request, decisions);
      const message = messages.get(requestId);
      if (message?.state === "rolled_up") return this.#queueRollup(message.channel, request.agentId);
      if (message?.state === "sent" && message.shown === shown) return;
      // A request decided before its first post got through is not worth a message any more.
      if (!message?.ts && request.status !== "pending") {
        if (message && message.state !== "failed") messages.failed(requestId, `${message.error ?? "not posted"}; the request was ${request.status} before Slack answered`, true);
        return this.#changed(requestId);
      }
      const channel = message?.ts ? message.channel : this.options.channelFor(request);
      if (!channel) {
        messages.refused(requestId, "no Slack channel: set SLACK_CHANNEL or the rule's review.slack_channel");
        return this.#changed(requestId);
      }
      // First time here: a message of its own or a place in the agent's summary. Nothing is awaited
      // between weighing and recording, so a burst is weighed one request at a time.
      if (!message && !this.#throttle.ownMessage(request.agentId, messages.waiting(request.agentId, channel, requestId))) {
        messages.rolledUp(requestId, channel);
        this.#queueRollup(channel, request.agentId);
        return this.#changed(requestId);
      }
      const content = requestMessage(request, decisions, this.options.requestUrl(requestId));
      messages.sending(requestId, channel, attempt);
      try {
        if (message?.ts) {
          await client.chat.update({ channel, ts: message.ts, ...content });
          messages.sent(requestId, shown);
        } else {
          const posted = await client.chat.postMessage({ channel, ...content, unfurl_links: false, unfurl_media: false });
          messages.sent(requestId, shown, { channel: posted.channel ?? channel, ts: posted.ts! });
        }
        return this.#changed(requestId);
      } catch (err) {
        const wait = this.#backoff(err, attempt);
        const what = `${message?.ts ? "update" : "post"} failed: ${describeSlackError(err)}`;
        messages.failed(requestId, what, wait === undefined);
        this.#changed(requestId);
        console.warn(`[slack] ${requestId}: ${what} (attempt ${attempt})${wait === undefined ? "; giving up" : `; retrying in ${wait} ms`}`);
        if (wait === undefined) return;
        await sleep(wait);
      }
    }
  }

  /** Keeps an agent's summary counting its rolled-up requests that are still pending; a finished one is left as it is. */
  async #syncRollup(channel: string, agentId: string): Promise<void> {
    const { messages, rollups, client } = this.options;
    for (let attempt = 1; !this.#closed; attempt++) {
      await this.#rateLimit();
      const waiting = messages.rolledUpPending(agentId, channel);
      const shown = String(waiting);
      const rollup = rollups.get(channel, agentId);
      // Once it said none are waiting, the next burst gets a new summary, at the bottom of the channel.
      const current = rollup?.ts && rollup.postedChannel && rollup.shown !== "0" ? { ts: rollup.ts, channel: rollup.postedChannel } : undefined;
      if (current ? rollup!.shown === shown : waiting === 0) return;
      const content = rollupMessage(agentId, waiting, this.options.queueUrl(agentId));
      try {
        if (current) {
          await client.chat.update({ ...current, ...content });
          rollups.sent(channel, agentId, shown);
        } else {
          const posted = await client.chat.postMessage({ channel, ...content, unfurl_links: false, unfurl_media: false });
          rollups.sent(channel, agentId, shown, { postedChannel: posted.channel ?? channel, ts: posted.ts! });
        }
        return;
      } catch (err) {
        const wait = this.#backoff(err, attempt);
        // Each request of the summary is still decided in the dashboard; its page says it was rolled up.
        console.warn(`[slack] ${agentId}'s summary in ${channel}: ${describeSlackError(err)} (attempt ${attempt})${wait === undefined ? "; giving up" : `; retrying in ${wait} ms`}`);
        if (wait === undefined) return;
        await sleep(wait);
      }
    }
  }

  /** How long to wait before attempt `attempt + 1` (undefined: give up); a rate limit holds every call. */
  #backoff(err: unknown, attempt: number): number | undefined {
    const wait = (this.options.delay ?? retryDelay)(err, attempt);
    if (err instanceof webApi.WebAPIRateLimitedError && wait !== undefined) this.#notBefore = Math.max(this.#notBefore, Date.now() + wait);
    return wait;
  }

  async #rateLimit(): Promise<void> {
    const wait = this.#notBefore - Date.now();
    if (wait > 0) await sleep(wait);
  }

  #changed(requestId: string): void {
    this.options.bus.publish({ type: "slack.changed", requestId });
  }
}

/** A timer that does not keep the process alive: on shutdown, pending retries simply stop. */
function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
