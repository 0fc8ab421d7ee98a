"use server";

import { revalidatePath } from "next/cache";
import { z } from "zod";
import { requirePerson } from "@/app/current-person";
import { getRuntime } from "@/lib/runtime";

export type RevokeResult = { ok: true } | { ok: false; error: string };

/** Revoke a grant: approvers and admins; it takes effect at the agent's next statement. */
export async function revokeGrant(_previous: RevokeResult | undefined, form: FormData): Promise<RevokeResult> {
  const person = await requirePerson();
  if (person.role === "viewer") return { ok: false, error: "viewers cannot revoke grants" };
  const grantId = z.string().regex(/^g_[0-9a-f]+$/).safeParse(form.get("grantId"));
  if (!grantId.success) return { ok: false, error: "no such grant" };
  if (!getRuntime().grants.revoke(grantId.data, person.email)) return { ok: false, error: "that grant has already ended" };
  revalidatePath("/grants");
  return { ok: true };
}
