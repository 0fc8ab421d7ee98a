"use server";

import { signOut } from "@/auth";
import { personForAction } from "@/app/current-person";

/** Anyone may sign out; when a session is there, its live sockets are closed with it. */
export async function signOutAction(): Promise<void> {
  const asker = await personForAction("console.read");
  if ("person" in asker) asker.rt.bus.publish({ type: "person.signed_out", email: asker.person.email });
  await signOut({ redirectTo: "/signin" });
}
