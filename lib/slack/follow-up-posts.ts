import type { webApi } from "@slack/bolt";
import type { FollowUpSent } from "../approvals/follow-ups";
import type { ApprovalService } from "../approvals/service";
import type { AccessRequest } from "../db/schema";
import { formatDuration } from "../policy/duration";
import { requestMessage } from "./blocks";
import type { SlackMessageStore } from "./message-store";
import { escapeMrkdwn, link, mrkdwn, slackDate } from "./mrkdwn";
import { postWithRetries, type retryDelay } from "./retry";

export interface SlackFollowUpOptions {
  client: webApi.WebClient;
  messages: SlackMessageStore;
  approvals: Pick<ApprovalService, "decisions">;
  /** Where a request's message goes when it has none of its own yet (rolled up, or not posted yet). */
  channelFor(request: AccessRequest): string | undefined;
  requestUrl(requestId: string): string;
  /** SLACK_USER_GROUPS: the Slack user group (S…) to mention for each approver group. */
  userGroups: Readonly<Record<string, string>>;
  delay?: typeof retryDelay;
}

/**
 * Slack's part of a reminder or an escalation (lib/approvals/follow-ups.ts), posted by the one
 * instance that claimed it. A reminder is a reply in the request's thread mentioning who may
 * decide; an escalation posts the request, with its buttons, to the escalation's channel and says
 * so in the thread. A call is retried as SlackSync's are, then given up (logged); an instance that
 * dies before Slack answered leaves the follow-up to another (lib/approvals/follow-ups.ts).
 */
export class SlackFollowUps {
  constructor(private readonly options: SlackFollowUpOptions) {}

  async post({ request, followUp }: FollowUpSent): Promise<void> {
    const { messages, requestUrl } = this.options;
    const message = await messages.get(request.id);
    const thread = message?.ts ? { channel: message.channel, thread_ts: message.ts } : undefined;
    const inChannel = thread ?? this.#channelOf(request);
    const mention = this.#mention(followUp.groups);
    const page = link(requestUrl(request.id), `request ${request.id}`);
    if (followUp.kind === "reminder") {
      // A rolled-up request has no thread, and its agent's summary already says how many wait: a reminder each would be the flood rolling up prevents.
      if (!inChannel || message?.state === "rolled_up") return;
      return this.#call("reminder", request.id, { ...inChannel, text: `:bell: ${mention} reminder: ${page} from ${escapeMrkdwn(request.agentId)} is still waiting for a decision (since ${slackDate(request.createdAt)}).` });
    }
    const escalation = request.followUp!.escalate!;
    const headline = `:rotating_light: ${mention} ${page} escalated to ${escapeMrkdwn(followUp.groups.join(", "))}: nobody of ${escapeMrkdwn(request.approverGroups.join(", "))} decided within ${formatDuration(escalation.afterMs)}. You may decide it now.`;
    const target = escalation.channel ? { channel: escalation.channel } : inChannel;
    if (target) {
      const content = requestMessage(request, await this.options.approvals.decisions(request.id), requestUrl(request.id));
      await this.#call("escalation", request.id, { ...target, text: headline, blocks: [{ type: "section", text: mrkdwn(headline) }, ...content.blocks], unfurl_links: false });
    }
    // Those who watch the request's own message learn where it went.
    if (thread && escalation.channel) await this.#call("escalation note", request.id, { ...thread, text: `:rotating_light: Escalated to ${escapeMrkdwn(followUp.groups.join(", "))} in ${escapeMrkdwn(escalation.channel)}.` });
  }

  /** The user groups mapped for `groups`; with none mapped, the whole channel (someone there can act). */
  #mention(groups: readonly string[]): string {
    const mapped = groups.flatMap((g) => (Object.hasOwn(this.options.userGroups, g) ? [`<!subteam^${this.options.userGroups[g]}>`] : []));
    return mapped.length > 0 ? mapped.join(" ") : "<!channel>";
  }

  #channelOf(request: AccessRequest): { channel: string } | undefined {
    const channel = this.options.channelFor(request);
    return channel ? { channel } : undefined;
  }

  #call(what: string, requestId: string, args: webApi.ChatPostMessageArguments): Promise<void> {
    return postWithRetries(this.options.client, args, `${requestId}'s ${what}`, this.options.delay);
  }
}
