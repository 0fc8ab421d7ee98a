"use server";

import { revalidatePath } from "next/cache";
import { z } from "zod";
import { requirePerson } from "@/app/current-person";
import { getRuntime } from "@/lib/runtime";

/** The pressed button says it all: "approve:once", "approve:<ms>" or "deny". */
const Input = z.object({
  requestId: z.string().regex(/^r_[0-9a-f]+$/),
  decision: z.string().regex(/^(approve:(once|\d+)|deny)$/),
  reason: z.string().max(1000).optional(),
});

export type DecisionResult = { ok: true; message: string } | { ok: false; error: string };

/**
 * Approve or deny from the web. Everything about who may decide is checked by the approvals
 * service from the signed-in session, never from the form: a forged post changes nothing.
 */
export async function decideRequest(_previous: DecisionResult | undefined, form: FormData): Promise<DecisionResult> {
  const person = await requirePerson();
  const input = Input.safeParse(Object.fromEntries(form));
  if (!input.success) return { ok: false, error: "that decision could not be read" };
  const { requestId, decision, reason } = input.data;
  const [action, grant] = decision.split(":") as ["approve" | "deny", string | undefined];
  const result = getRuntime().approvals.decide({
    requestId,
    person: { email: person.email, groups: person.groups, role: person.role },
    action,
    grant: grant === undefined || grant === "once" ? "once" : Number(grant),
    reason,
    via: "web",
  });
  if (!result.ok) return { ok: false, error: result.message };
  revalidatePath(`/requests/${requestId}`);
  revalidatePath("/");
  const { request } = result;
  return { ok: true, message: request.status === "pending" ? "Your approval is recorded; more are needed." : `Request ${request.status}.` };
}
