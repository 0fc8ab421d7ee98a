import { people } from "../db/schema";
import type { Runtime } from "../runtime";
import { roleForGroups } from "./roles";

/** Remembers who signed in and as what, so later features can name and notify people. */
export function recordSignIn(rt: Pick<Runtime, "store" | "bus" | "config">, who: { email: string; name: string | null; groups: string[] }): void {
  const role = roleForGroups(who.groups, rt.config.roleGroups);
  const now = new Date();
  rt.store.db
    .insert(people)
    .values({ email: who.email, name: who.name, groups: who.groups, role, lastSignInAt: now })
    .onConflictDoUpdate({ target: people.email, set: { name: who.name, groups: who.groups, role, lastSignInAt: now } })
    .run();
  rt.bus.publish({ type: "person.signed_in", email: who.email, role, at: now.toISOString() });
}
