"use server";

import { revalidatePath } from "next/cache";
import { z } from "zod";
import type { ActionResult } from "@/components/action-outcome";
import { personForAction } from "@/app/current-person";

const Input = z.object({ id: z.string().regex(/^bg_[0-9a-f]+$/), note: z.string().max(4000) });

export type ReviewResult = ActionResult;

/** A person has looked at a break-glass use afterwards: with their note it leaves the queue (lib/access/break-glass.ts). */
export async function reviewBreakGlass(_previous: ReviewResult | undefined, form: FormData): Promise<ReviewResult> {
  const asker = await personForAction("break_glass.review");
  if (!("person" in asker)) return asker;
  const input = Input.safeParse(Object.fromEntries(form));
  if (!input.success) return { ok: false, error: "that review could not be read" };
  const result = await asker.rt.breakGlass.review(input.data.id, asker.person.email, input.data.note);
  if (!result.ok) return { ok: false, error: result.message };
  revalidatePath("/");
  return { ok: true, message: "Reviewed." };
}
