import type { IncomingMessage, ServerResponse } from "node:http";
import { App, HTTPReceiver, LogLevel, webApi } from "@slack/bolt";
import type { FollowUpSent } from "../approvals/follow-ups";
import type { ApprovalService } from "../approvals/service";
import type { AirlockConfig } from "../config";
import type { Store } from "../db/client";
import type { AccessRequest, BreakGlassUse, Grant } from "../db/schema";
import type { EventBus } from "../events/bus";
import type { Policy } from "../policy/policy-file";
import { breakGlassAlert } from "./break-glass-alert";
import { SlackFollowUps } from "./follow-up-posts";
import { handleInteractions } from "./interactions";
import { CALL_TIMEOUT_MS } from "./lease";
import { SlackMessageStore } from "./message-store";
import { SlackPeople, type Directory } from "./people";
import { ReplayGuard, screenRequest } from "./replays";
import { describeSlackError } from "./retry";
import { SlackRollupStore } from "./rollup-store";
import { SLACK_EVENTS_PATH, slackMode, type SlackMode } from "./settings";
import { SlackSync } from "./sync";
import { previewOf } from "../approvals/preview/store";

export interface SlackIntegration {
  mode: Exclude<SlackMode, "off">;
  /** Serves SLACK_EVENTS_PATH (HTTP mode): a replay is refused (409), anything else goes to Bolt, which checks the signature. */
  handle(req: IncomingMessage, res: ServerResponse): void;
  /** Posts a reminder or escalation this instance claimed (lib/approvals/follow-ups.ts). */
  followedUp(sent: FollowUpSent): Promise<void>;
  /** Alerts the approvals channel of a break-glass use this instance granted (lib/access/break-glass.ts). */
  breakGlassUsed(use: BreakGlassUse, grant: Grant): Promise<void>;
  close(): Promise<void>;
}

export interface SlackOptions {
  config: AirlockConfig;
  store: Store;
  bus: EventBus;
  approvals: ApprovalService;
  policy: () => Policy;
  publicUrl: string;
  directory: Directory;
  /** Told of each failed Slack call (`/metrics`). */
  failed?(method: "post" | "update", retrying: boolean): void;
}

/**
 * Slack inside Airlock: Bolt receives clicks (HTTP on the dashboard's port, or Socket Mode), and
 * SlackSync posts and updates messages. Undefined when Slack is not configured.
 */
export async function startSlack(options: SlackOptions): Promise<SlackIntegration | undefined> {
  const { config, approvals } = options;
  const mode = slackMode(config.slack);
  if (mode === "off") return undefined;
  const { botToken, signingSecret, appToken, apiUrl, channel } = config.slack;
  const clientOptions = webClientOptions(apiUrl);
  const client = new webApi.WebClient(botToken, clientOptions);
  // One workspace, one token: no auth.test before each click, so clicks do not depend on it.
  const authorize = async () => ({ botToken });
  const receiver = mode === "http" ? new HTTPReceiver({ signingSecret: signingSecret!, endpoints: SLACK_EVENTS_PATH, logLevel: LogLevel.WARN }) : undefined;
  const app = receiver
    ? new App({ receiver, authorize, clientOptions, logLevel: LogLevel.WARN })
    : // Socket Mode's own client (apps.connections.open) takes installerOptions.clientOptions, by default the ones above.
      // Their no-retries made one HTTP or network error while reconnecting end Socket Mode for good (it retries neither
      // itself), so it gets the API URL alone and keeps its Web API client's own retries.
      new App({ socketMode: true, appToken, authorize, clientOptions, installerOptions: { clientOptions: { slackApiUrl: apiUrl } }, logLevel: LogLevel.WARN });
  app.error(async (err) => console.error("[slack]", err));

  const requestUrl = (id: string) => `${options.publicUrl}/requests/${id}`;
  handleInteractions(app, { approvals, people: new SlackPeople(client, options.directory, config.roleGroups), requestUrl });
  const messages = new SlackMessageStore(options.store);
  const channelFor = (request: AccessRequest) => options.policy().rules.find((r) => r.name === request.rule)?.review?.slackChannel ?? channel;
  const followUps = new SlackFollowUps({ client, messages, approvals, channelFor, requestUrl, userGroups: config.slack.userGroups });
  const sync = new SlackSync({
    client,
    messages,
    rollups: new SlackRollupStore(options.store),
    approvals,
    bus: options.bus,
    channelFor,
    requestUrl,
    queueUrl: (agentId) => `${options.publicUrl}/?${new URLSearchParams({ agent: agentId })}`,
    preview: (requestId) => previewOf(options.store, requestId),
    failed: options.failed,
  }).start();
  // A Socket Mode connection that fails is logged and retried by Bolt; Airlock starts regardless.
  if (mode === "socket") app.start().catch((err: unknown) => console.error("[slack] Socket Mode did not connect:", err));
  // Tells the operator at once whether Slack accepts the token; nothing waits for it.
  client.auth
    .test()
    .then((who) => console.log(`[slack] ${mode === "socket" ? "Socket Mode" : `HTTP at ${options.publicUrl}${SLACK_EVENTS_PATH}`}, as ${who.user ?? "?"} in ${who.team ?? "?"}`))
    .catch((err: unknown) => console.error(`[slack] the bot token does not work: ${describeSlackError(err)}`));

  const replays = new ReplayGuard();
  const toBolt: SlackIntegration["handle"] = (req, res) => {
    try {
      receiver!.requestListener(req, res);
    } catch {
      // Bolt takes only POSTs to the endpoint; it throws for anything else.
      answer(res, 405, "Slack posts its requests here\n");
    }
  };

  return {
    mode,
    // Never rejects: a follow-up Slack refused is logged and counts as told (its record and audit row stand).
    followedUp: (sent) => followUps.post(sent).catch((err: unknown) => console.error(`[slack] posting ${sent.request.id}'s ${sent.followUp.kind} failed:`, err)),
    breakGlassUsed: breakGlassAlert({ client, channel, queueUrl: `${options.publicUrl}/` }),
    handle(req, res) {
      if (!receiver) return answer(res, 404, "Slack reaches this Airlock through Socket Mode\n");
      if (req.method !== "POST") return toBolt(req, res);
      // Bolt alone accepts the same signed request again for its five minutes; a replay must be told apart and change nothing.
      screenRequest(req, replays, signingSecret!)
        .then((refusal) => (refusal ? answer(res, refusal.status, refusal.text) : toBolt(req, res)))
        .catch((err: unknown) => {
          console.error("[slack] reading a request failed:", err);
          if (!res.headersSent) answer(res, 500, "Airlock could not read this request\n");
        });
    },
    async close() {
      sync.close();
      if (mode === "socket") await app.stop();
    },
  };
}

/** Airlock retries itself (SlackSync), so the Web API client fails fast instead of queueing for minutes. */
export function webClientOptions(apiUrl: string | undefined): webApi.WebClientOptions {
  return { slackApiUrl: apiUrl, retryConfig: { retries: 0 }, rejectRateLimitedCalls: true, timeout: CALL_TIMEOUT_MS, logLevel: LogLevel.ERROR };
}

function answer(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { "content-type": "text/plain", ...(status === 405 ? { allow: "POST" } : {}) });
  res.end(text);
}
