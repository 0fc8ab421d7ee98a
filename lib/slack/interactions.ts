import type { App, BlockAction } from "@slack/bolt";
import type { ApprovalService, Refusal } from "../approvals/service";
import { readButton } from "./blocks";
import { DENY_CALLBACK_ID, denyModal, readDenial, reasonError } from "./deny-modal";
import type { SlackPeople } from "./people";

/**
 * What Slack users do: press a button on a request's message, or submit the deny form. Who they
 * are comes from their Slack profile; every decision goes through the one approvals service, so
 * every rule of deciding holds here as on the web. A refusal is told to the clicker alone
 * (ephemeral); the request's message itself changes only through SlackSync. A request that asks
 * for step-up (review.step_up) is never decided by a click: the clicker is sent to its page.
 */
export function handleInteractions(app: App, { approvals, people, requestUrl }: { approvals: ApprovalService; people: SlackPeople; requestUrl: (id: string) => string }): void {
  // A step-up refusal carries the way on: the request's page, where a fresh sign-in decides.
  const why = (id: string, refusal: Pick<Refusal, "code" | "message">) => `${id}: ${refusal.message}${refusal.code === "step_up" ? `. Open it: <${requestUrl(id)}>` : ""}`;
  app.action<BlockAction>({ type: "block_actions", action_id: /.*/ }, async ({ ack, body, action, client, logger }) => {
    // Slack waits three seconds for the acknowledgement; the work comes after it.
    await ack();
    const tell = async (text: string) => {
      if (!body.channel) return logger.warn(`[slack] cannot answer ${body.user.id} outside a channel: ${text}`);
      await client.chat.postEphemeral({ channel: body.channel.id, user: body.user.id, text }).catch((err: unknown) => logger.warn("[slack] ephemeral answer failed:", err));
    };
    const button = action.type === "button" ? readButton(action.action_id, action.value) : undefined;
    if (!button) return tell("Airlock does not know this button; nothing was changed.");
    const who = await people.whoClicked(body.user.id);
    if (!who.ok) return tell(`${button.requestId}: ${who.message} Nothing was changed.`);

    if (button.action === "deny") {
      // Checked before the form opens so nobody writes a reason in vain; decide() checks again on submit.
      const [refusal, request] = await Promise.all([approvals.refusal(button.requestId, who.person, { action: "deny", via: "slack" }), approvals.get(button.requestId)]);
      if (refusal || !request) return tell(refusal ? why(button.requestId, refusal) : `${button.requestId}: no such request`);
      // The trigger lives three seconds; if Slack is slow the form cannot open, and the clicker should know.
      await client.views.open({ trigger_id: body.trigger_id, view: denyModal(request) }).catch(() => tell(`${button.requestId}: Slack did not open the deny form; press Deny again.`));
      return;
    }
    const result = await approvals.decide({ requestId: button.requestId, person: who.person, action: "approve", grant: button.grant, via: "slack" });
    if (!result.ok) return tell(why(button.requestId, result));
  });

  app.view(DENY_CALLBACK_ID, async ({ ack, body, view }) => {
    // A refusal is shown in the form itself, under the reason, and the request stays as it was.
    const denial = readDenial(view);
    if (!denial) return ack(reasonError("Airlock could not read this form; nothing was changed."));
    const who = await people.whoClicked(body.user.id);
    if (!who.ok) return ack(reasonError(who.message));
    const result = await approvals.decide({ requestId: denial.requestId, person: who.person, action: "deny", reason: denial.reason, via: "slack" });
    await ack(result.ok ? undefined : reasonError(result.code === "step_up" ? why(denial.requestId, result) : result.message));
  });
}
