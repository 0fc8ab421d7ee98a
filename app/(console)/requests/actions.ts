"use server";

import { revalidatePath } from "next/cache";
import { z } from "zod";
import type { ActionResult } from "@/components/action-outcome";
import { personForAction } from "@/app/current-person";
import { signIn } from "@/auth";
import { signInOfSession, stepUpSignInParams } from "@/lib/approvals/step-up";
import { parseDuration } from "@/lib/policy/duration";

/** The pressed button says it all: "approve:once", "approve:<ms>", "approve:duration" (the length typed) or "deny". */
const Input = z.object({
  requestId: z.string().regex(/^r_[0-9a-f]+$/),
  decision: z.string().regex(/^(approve:(once|duration|\d+)|deny)$/),
  duration: z.string().max(20).optional(),
  reason: z.string().max(1000).optional(),
  /** "At most N rows" (lib/approvals/row-limit.ts); empty: no limit. */
  maxRows: z.string().regex(/^\s*\d{0,10}\s*$/).optional(),
});

export type DecisionResult = ActionResult;

/**
 * Approve or deny from the web. Everything about who may decide is checked by the approvals
 * service from the signed-in session, never from the form: a forged post changes nothing.
 */
export async function decideRequest(_previous: DecisionResult | undefined, form: FormData): Promise<DecisionResult> {
  const asker = await personForAction("requests.decide");
  if (!("person" in asker)) return asker;
  const { person, rt } = asker;
  const input = Input.safeParse(Object.fromEntries(form));
  if (!input.success) return { ok: false, error: "that decision could not be read" };
  const { requestId, decision, duration, reason } = input.data;
  const maxRows = input.data.maxRows?.trim() ? Number(input.data.maxRows) : null;
  const [action, choice] = decision.split(":") as ["approve" | "deny", string | undefined];
  // Whether the length fits the request (no longer than asked) is the approvals service's to say.
  const grant = choice === "duration" ? parseDuration(duration ?? "") : choice === undefined || choice === "once" ? "once" : Number(choice);
  if (grant === undefined) return { ok: false, error: "a duration looks like 10m, 1h or 90s" };
  const result = await rt.approvals.decide({
    requestId,
    person: { email: person.email, groups: person.groups, role: person.role, identity: person.identity, signIn: signInOfSession(person.signIn) },
    action,
    grant,
    reason,
    maxRows: action === "approve" ? maxRows : null,
    via: "web",
  });
  if (!result.ok) {
    // A sign-in grown too old since the page was shown: the page is drawn again, offering a new one.
    if (result.code === "step_up") revalidatePath(`/requests/${requestId}`);
    return { ok: false, error: result.message };
  }
  revalidatePath(`/requests/${requestId}`);
  revalidatePath("/");
  const { request } = result;
  return { ok: true, message: request.status === "pending" ? "Your approval is recorded; more are needed." : `Request ${request.status}.` };
}

const RequestId = z.string().regex(/^r_[0-9a-f]+$/);

/**
 * "Sign in again to decide" on a step-up request: a new login at the IdP (prompt=login, and
 * max_age so it must say when), back to the request's page, where the new sign-in's decision counts.
 */
export async function signInToDecide(form: FormData): Promise<void> {
  const id = RequestId.safeParse(form.get("requestId"));
  const back = id.success ? `/requests/${id.data}` : "/";
  const asker = await personForAction("requests.decide");
  const request = id.success && "rt" in asker ? await asker.rt.approvals.get(id.data) : undefined;
  await signIn("sso", { redirectTo: back }, stepUpSignInParams(request?.stepUpMs ?? 0));
}
