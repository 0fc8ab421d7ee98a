import { eq } from "drizzle-orm";
import type { Store } from "./store";

export interface SecretSources {
  /** How this instance keeps it on its own: a file in the data dir, made on first use (SQLite). */
  local(): string | Promise<string>;
  /** A new one, for the first instance on a PostgreSQL store. */
  fresh(): string | Promise<string>;
}

/**
 * A secret every instance on the store must agree on: the session secret, the masking hash key
 * (a `hash` mask must give the same value on every instance), the development IdP's keys, the
 * audit signing key. On SQLite the instances share a data dir, and the secret stays in its file
 * there. On PostgreSQL instances may be on other machines: the first to start writes the secret
 * into the store (insert-if-absent, so two starting at once agree on one), every other reads it.
 */
export async function sharedSecret(store: Store, name: string, sources: SecretSources): Promise<string> {
  if (store.dialect === "sqlite") return sources.local();
  const { sharedSecrets } = store.tables;
  await store.db
    .insert(sharedSecrets)
    .values({ name, value: await sources.fresh(), createdAt: new Date() })
    .onConflictDoNothing();
  const [row] = await store.db.select({ value: sharedSecrets.value }).from(sharedSecrets).where(eq(sharedSecrets.name, name));
  if (!row) throw new Error(`the shared secret ${name} could not be read back from the store`);
  return row.value;
}
