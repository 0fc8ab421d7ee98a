import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import type { StoreScope } from "../db/client";
import type { Person } from "../db/schema";
import type { Runtime } from "../runtime";
import { roleForGroups } from "./roles";

/** Remembers who signed in and as what, so later features can name and notify people. */
export async function recordSignIn(rt: Pick<Runtime, "store" | "bus" | "config">, who: { email: string; name: string | null; groups: string[] }): Promise<void> {
  const role = roleForGroups(who.groups, rt.config.roleGroups);
  const now = new Date();
  const { people } = rt.store.tables;
  await rt.store.db
    .insert(people)
    .values({ email: who.email, name: who.name, groups: who.groups, role, lastSignInAt: now })
    .onConflictDoUpdate({ target: people.email, set: { name: who.name, groups: who.groups, role, lastSignInAt: now } });
  rt.bus.publish({ type: "person.signed_in", email: who.email, role, at: now.toISOString() });
}

/** A refused sign-in is an audit event too (a forged or replayed SAML response leaves a trace). */
export function recordSignInRefused(rt: Pick<Runtime, "bus">, refusal: { method: "saml"; code: string; reason: string }): void {
  rt.bus.publish({ type: "person.sign_in_refused", id: randomUUID(), ...refusal, at: new Date().toISOString() });
}

/** A person as their identity provider described them at their last sign-in, if they ever signed in. */
export async function findPerson(store: StoreScope, email: string): Promise<Person | undefined> {
  const { people } = store.tables;
  // Email case differs between systems (an IdP's "Bob@…", Slack's "bob@…"); the address is the same.
  return (await store.db.select().from(people).where(sql`lower(${people.email}) = ${email.trim().toLowerCase()}`).limit(1))[0];
}
