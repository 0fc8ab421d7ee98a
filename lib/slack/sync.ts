import { webApi } from "@slack/bolt";
import type { ApprovalService } from "../approvals/service";
import type { ImpactPreview } from "../approvals/preview/types";
import type { AccessRequest, RequestDecision } from "../db/schema";
import type { EventBus } from "../events/bus";
import { requestMessage, rollupMessage } from "./blocks";
import { heldByOther, LEASE_MS, versionOf, type Version } from "./lease";
import type { SlackMessageStore } from "./message-store";
import { describeSlackError, retryDelay } from "./retry";
import type { SlackRollupStore } from "./rollup-store";
import { ownMessage } from "./throttle";

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
  /** The request's impact preview once made (lib/approvals/preview): the message is updated to show it. */
  preview?(requestId: string): Promise<ImpactPreview | undefined>;
  /** Told of each failed call (`/metrics`): posting or updating, and whether it will be tried again. */
  failed?(method: "post" | "update", retrying: boolean): void;
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
 * agent is rolled up into one summary message per channel (lib/slack/throttle). Every instance on
 * the store runs one and hears every change: holds on the messages (lib/slack/lease.ts) make one
 * post per request, and one call at a time per message, whatever their number.
 */
export class SlackSync {
  /** Per request (and per summary) at most one job; a change during it makes the job run once more. */
  readonly #jobs = new Map<string, { again: boolean; done: Promise<void> }>();
  /** A rate limit holds every call until Slack's Retry-After has passed, not only the one that met it. */
  #notBefore = 0;
  #closed = false;
  #unsubscribe: (() => void) | undefined;
  #sweep: NodeJS.Timeout | undefined;

  constructor(private readonly options: SlackSyncOptions) {}

  start(): this {
    this.#unsubscribe = this.options.bus.subscribe((event) => {
      if (event.type === "request.changed") this.queue(event.requestId);
    });
    this.#catchUp();
    // A message held by an instance that died is free again after LEASE_MS: whoever is alive takes it up then.
    this.#sweep = setInterval(() => this.#catchUp(), LEASE_MS);
    this.#sweep.unref();
    return this;
  }

  /** Changes made while nobody listened (requests cancelled at start, a call cut short by a crash). */
  #catchUp(): void {
    const { messages, rollups } = this.options;
    Promise.all([messages.outOfDate(), rollups.counting()])
      .then(([requestIds, summaries]) => {
        for (const requestId of requestIds) this.queue(requestId);
        for (const { channel, agentId } of summaries) this.#queueRollup(channel, agentId);
      })
      .catch((err: unknown) => console.error("[slack] looking for messages out of date failed:", err));
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
    clearInterval(this.#sweep);
    this.#unsubscribe?.();
  }

  /**
   * Shows the request as it is now, under this instance's hold on its message (lib/slack/lease.ts).
   * A message another instance holds is left to it: after its call it reads the request again, as
   * this loop does after each of its own, so a change heard anywhere meanwhile is shown too.
   */
  async #sync(requestId: string): Promise<void> {
    const { messages, client } = this.options;
    /** The message as this instance holds it while waiting to try again. */
    let held: Version | undefined;
    for (let attempt = 1; !this.#closed; attempt++) {
      await this.#rateLimit();
      // The message before the request: whoever wrote the version read here had read the request
      // before, and a claim fails if anyone writes after; so what is shown is never older than what
      // another instance showed (read the other way round, an update could go back a state).
      const message = await messages.get(requestId);
      const read = await this.#read(requestId);
      if (!read) return;
      const { request, decisions } = read;
      const preview = await this.options.preview?.(requestId);
      const shown = `${shownOf(request, decisions)}${preview ? ":previewed" : ""}`;
      if (message && heldByOther(message, held)) return;
      if (message?.state === "rolled_up") return this.#queueRollup(message.channel, request.agentId);
      if (message?.state === "sent" && message.shown === shown) return;
      // A request decided before its first post got through is not worth a message any more.
      if (!message?.ts && request.status !== "pending") {
        if (message && message.state !== "failed") await messages.failed(requestId, versionOf(message), `${message.error ?? "not posted"}; the request was ${request.status} before Slack answered`);
        return this.#changed(requestId);
      }
      const channel = message?.ts ? message.channel : this.options.channelFor(request);
      if (!channel) {
        await messages.refused(requestId, message, "no Slack channel: set SLACK_CHANNEL or the rule's review.slack_channel");
        return this.#changed(requestId);
      }
      let hold: Version | undefined;
      if (message) {
        hold = await messages.claim(message, attempt);
      } else {
        // First time here: a message of its own or a place in the agent's summary, weighed one request at a time.
        const first = await messages.first(request, channel, ownMessage);
        if (first?.state === "rolled_up") {
          this.#queueRollup(channel, request.agentId);
          return this.#changed(requestId);
        }
        hold = first && versionOf(first);
      }
      // Another instance claimed it between the read and here: it shows the request from now on.
      if (!hold) return;
      const content = requestMessage(request, decisions, this.options.requestUrl(requestId), preview);
      try {
        let kept: boolean;
        if (message?.ts) {
          await client.chat.update({ channel, ts: message.ts, ...content });
          kept = await messages.sent(requestId, hold, shown);
        } else {
          const posted = await client.chat.postMessage({ channel, ...content, unfurl_links: false, unfurl_media: false });
          kept = await messages.sent(requestId, hold, shown, { channel: posted.channel ?? channel, ts: posted.ts! });
        }
        this.#changed(requestId);
        // Not kept: the call outlasted the hold and another instance took the message over.
        if (!kept) return;
        held = undefined;
        attempt = 0;
      } catch (err) {
        const wait = this.#backoff(err, attempt);
        const method = message?.ts ? "update" : "post";
        this.options.failed?.(method, wait !== undefined);
        const what = `${method} failed: ${describeSlackError(err)}`;
        held = await messages.failed(requestId, hold, what, wait === undefined ? undefined : Date.now() + wait);
        this.#changed(requestId);
        console.warn(`[slack] ${requestId}: ${what} (attempt ${attempt})${wait === undefined ? "; giving up" : `; retrying in ${wait} ms`}`);
        if (wait === undefined || !held) return;
        await sleep(wait);
      }
    }
  }

  /**
   * The request and its decisions as they were at one moment. A decision and the status it brings
   * are written together, but read apart they could show a state the request was never in (still
   * pending, with all the approvals it needs); so the decisions are read on both sides of the
   * request, and all again if one came in between.
   */
  async #read(requestId: string): Promise<{ request: AccessRequest; decisions: RequestDecision[] } | undefined> {
    const { approvals } = this.options;
    for (let before = await approvals.decisions(requestId); ; ) {
      const request = await approvals.get(requestId);
      if (!request) return undefined;
      const decisions = await approvals.decisions(requestId);
      if (decisions.length === before.length) return { request, decisions };
      before = decisions;
    }
  }

  /** Keeps an agent's summary counting its rolled-up requests that are still pending, under a hold as #sync; a finished one is left as it is. */
  async #syncRollup(channel: string, agentId: string): Promise<void> {
    const { messages, rollups, client } = this.options;
    let held: Version | undefined;
    for (let attempt = 1; !this.#closed; attempt++) {
      await this.#rateLimit();
      // The summary before its count, as in #sync: a count read after another instance's write is never older than the one it showed.
      const rollup = await rollups.get(channel, agentId);
      const waiting = await messages.rolledUpPending(agentId, channel);
      const shown = String(waiting);
      if (rollup && heldByOther(rollup, held)) return;
      // Once it said none are waiting, the next burst gets a new summary, at the bottom of the channel.
      const current = rollup?.ts && rollup.postedChannel && rollup.shown !== "0" ? { ts: rollup.ts, channel: rollup.postedChannel } : undefined;
      if (current ? rollup!.shown === shown : waiting === 0) {
        if (held) await rollups.release(channel, agentId, held);
        return;
      }
      const hold = await rollups.claim(channel, agentId, rollup);
      if (!hold) return;
      const content = rollupMessage(agentId, waiting, this.options.queueUrl(agentId));
      try {
        let kept: boolean;
        if (current) {
          await client.chat.update({ ...current, ...content });
          kept = await rollups.sent(channel, agentId, hold, shown);
        } else {
          const posted = await client.chat.postMessage({ channel, ...content, unfurl_links: false, unfurl_media: false });
          kept = await rollups.sent(channel, agentId, hold, shown, { postedChannel: posted.channel ?? channel, ts: posted.ts! });
        }
        if (!kept) return;
        held = undefined;
        attempt = 0;
      } catch (err) {
        const wait = this.#backoff(err, attempt);
        this.options.failed?.(current ? "update" : "post", wait !== undefined);
        held = await rollups.release(channel, agentId, hold, wait === undefined ? undefined : Date.now() + wait);
        // Each request of the summary is still decided in the dashboard; its page says it was rolled up.
        console.warn(`[slack] ${agentId}'s summary in ${channel}: ${describeSlackError(err)} (attempt ${attempt})${wait === undefined ? "; giving up" : `; retrying in ${wait} ms`}`);
        if (wait === undefined || !held) return;
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
