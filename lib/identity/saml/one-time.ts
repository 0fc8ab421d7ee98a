import { and, eq, gt, lte } from "drizzle-orm";
import type { Store } from "../../db/store";

/**
 * Values SAML sign-in must see at most once, in the store so that every instance behind one URL
 * sees the same ones: an AuthnRequest answered on one instance cannot be answered again on
 * another, nor can an assertion used on one be replayed to another. Each row is kept only until it
 * could not be accepted anyway; expired rows are cleared as new ones are written.
 */
export class OneTimeValues {
  constructor(
    private readonly store: Pick<Store, "db" | "tables">,
    private readonly now: () => number = Date.now,
  ) {}

  /** Keeps `key` until `expiresAt`; false when it is already kept and unexpired (a replay). */
  async add(key: string, value: string, expiresAt: Date): Promise<boolean> {
    const { samlOneTime } = this.store.tables;
    const now = new Date(this.now());
    // An expired row would make the insert below look like a replay; cleared first, with the rest.
    await this.store.db.delete(samlOneTime).where(lte(samlOneTime.expiresAt, now));
    const added = await this.store.db.insert(samlOneTime).values({ key, value, expiresAt }).onConflictDoNothing().returning({ key: samlOneTime.key });
    return added.length === 1;
  }

  async get(key: string): Promise<string | undefined> {
    const { samlOneTime } = this.store.tables;
    const [row] = await this.store.db
      .select({ value: samlOneTime.value })
      .from(samlOneTime)
      .where(and(eq(samlOneTime.key, key), gt(samlOneTime.expiresAt, new Date(this.now()))));
    return row?.value;
  }

  async remove(key: string): Promise<void> {
    const { samlOneTime } = this.store.tables;
    await this.store.db.delete(samlOneTime).where(eq(samlOneTime.key, key));
  }
}
