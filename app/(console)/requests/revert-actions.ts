"use server";

import { revalidatePath } from "next/cache";
import { z } from "zod";
import type { ActionResult } from "@/components/action-outcome";
import { personForAction } from "@/app/current-person";
import { askRevert } from "@/lib/approvals/undo/revert";

const Input = z.object({ requestId: z.string().regex(/^r_[0-9a-f]+$/) });

/**
 * Revert an approved write: asks for a revert request (lib/approvals/undo/revert.ts), which the
 * write's rule's approvers decide — never the one who asked. Who may ask is checked there.
 */
export async function requestRevert(_previous: ActionResult | undefined, form: FormData): Promise<ActionResult> {
  const asker = await personForAction("requests.decide");
  if (!("person" in asker)) return asker;
  const { person, rt } = asker;
  const input = Input.safeParse(Object.fromEntries(form));
  if (!input.success) return { ok: false, error: "that request could not be read" };
  const result = await askRevert(rt.store, rt.approvals, input.data.requestId, { email: person.email, groups: person.groups, role: person.role, identity: person.identity });
  if (!result.ok) return { ok: false, error: result.message };
  revalidatePath(`/requests/${input.data.requestId}`);
  revalidatePath("/");
  return { ok: true, message: `Revert asked for: request ${result.request.id}, for another approver to decide.` };
}
