import { sql } from "drizzle-orm";
import { index, integer, real, sqliteTable, text } from "drizzle-orm/sqlite-core";

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

/** One agent connection through the proxy, from authentication to disconnect. */
export const agentSessions = sqliteTable(
  "agent_sessions",
  {
    id: text("id").primaryKey(),
    agentId: text("agent_id").notNull(),
    groups: text("groups", { mode: "json" }).$type<string[]>().notNull(),
    resource: text("resource").notNull(),
    clientAddress: text("client_address"),
    applicationName: text("application_name"),
    startedAt: integer("started_at", { mode: "timestamp_ms" }).notNull(),
    endedAt: integer("ended_at", { mode: "timestamp_ms" }),
    endReason: text("end_reason"),
  },
  (t) => [index("agent_sessions_started_at").on(t.startedAt)],
);
export type AgentSession = typeof agentSessions.$inferSelect;

/** Every statement an agent sent, with what became of it. */
export const statements = sqliteTable(
  "statements",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    sessionId: text("session_id").notNull(),
    text: text("text").notNull(),
    params: text("params", { mode: "json" }).$type<Array<string | null>>(),
    protocol: text("protocol", { enum: ["simple", "extended"] }).notNull(),
    outcome: text("outcome", { enum: ["ok", "error", "refused"] }).notNull(),
    errorCode: text("error_code"),
    errorMessage: text("error_message"),
    rows: integer("rows").notNull().default(0),
    durationMs: real("duration_ms").notNull(),
    startedAt: integer("started_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [index("statements_session").on(t.sessionId), index("statements_started_at").on(t.startedAt)],
);
export type StatementRow = typeof statements.$inferSelect;
