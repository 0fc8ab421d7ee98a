import { sql } from "drizzle-orm";
import { integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

/** People who have signed in to the dashboard, as their identity provider last described them. */
export const people = sqliteTable("people", {
  email: text("email").primaryKey(),
  name: text("name"),
  groups: text("groups", { mode: "json" }).$type<string[]>().notNull(),
  role: text("role", { enum: ["admin", "approver", "viewer"] }).notNull(),
  firstSeenAt: integer("first_seen_at", { mode: "timestamp_ms" }).notNull().default(sql`(unixepoch() * 1000)`),
  lastSignInAt: integer("last_sign_in_at", { mode: "timestamp_ms" }).notNull(),
});
export type Person = typeof people.$inferSelect;
