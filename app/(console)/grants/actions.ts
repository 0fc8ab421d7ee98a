"use server";

import { revalidatePath } from "next/cache";
import { z } from "zod";
import { personForAction } from "@/app/current-person";

export type RevokeResult = { ok: true } | { ok: false; error: string };

/** Revoke a grant: approvers and admins; it takes effect at the agent's next statement. */
export async function revokeGrant(_previous: RevokeResult | undefined, form: FormData): Promise<RevokeResult> {
  const asker = await personForAction("grants.revoke");
  if (!("person" in asker)) return asker;
  const grantId = z.string().regex(/^g_[0-9a-f]+$/).safeParse(form.get("grantId"));
  if (!grantId.success) return { ok: false, error: "no such grant" };
  if (!(await asker.rt.grants.revoke(grantId.data, asker.person.email))) return { ok: false, error: "that grant has already ended" };
  revalidatePath("/grants");
  return { ok: true };
}
