import { sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { people, type Person } from "../db/schema";
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

/** A person as their identity provider described them at their last sign-in, if they ever signed in. */
export function findPerson(db: Db, email: string): Person | undefined {
  // Email case differs between systems (an IdP's "Bob@…", Slack's "bob@…"); the address is the same.
  return db.select().from(people).where(sql`lower(${people.email}) = ${email.trim().toLowerCase()}`).get();
}
