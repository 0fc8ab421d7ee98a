"use server";

import { signIn } from "@/auth";

/** Starts the OIDC flow; returns the person to where they were going, on this site only. */
export async function signInWithSso(formData: FormData): Promise<void> {
  const next = formData.get("next");
  const redirectTo = typeof next === "string" && next.startsWith("/") && !next.startsWith("//") ? next : "/";
  await signIn("sso", { redirectTo });
}
