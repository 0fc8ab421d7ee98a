import type { PreviewSession } from "../preview/types";
import { keyOf } from "./exact";
import { ident } from "./plan";
import type { CapturedRow, UndoKind, UndoTarget } from "./types";

/** A row that changed since the write it would undo: its key and what is different. */
export interface Conflict {
  key: string;
  why: string;
}

export type RestoreResult = { ok: true; restored: number } | { ok: false; conflicts: Conflict[] };

/**
 * Restores what an approved write changed, in one transaction on Airlock's own session, or
 * nothing: every row is locked and read first, and must be exactly as the write left it (an
 * UPDATE's or INSERT's after-values; a DELETE's row must not exist again). Any row changed since
 * is a conflict, named by its key, and nothing is restored. Then: an UPDATE's rows get their
 * before-values back (every column but generated ones), a DELETE's rows are inserted again (with
 * their own identity values), an INSERT's rows are deleted.
 */
export async function restore(session: PreviewSession, undo: { kind: UndoKind; target: UndoTarget; rows: CapturedRow[] }): Promise<RestoreResult> {
  const { kind, target, rows } = undo;
  const keys = rows.map((r) => target.key.map((k) => (r.before ?? r.after)![k]));
  const keyExpr = `jsonb_build_array(${target.key.map((k) => `t.${ident(k)}`).join(", ")})`;
  await session.query("BEGIN");
  try {
    const current = await session.query(
      `SELECT ${keyExpr}::text, to_jsonb(t.*)::text FROM ${target.table} AS t WHERE ${keyExpr} IN (SELECT jsonb_array_elements($1::jsonb)) FOR UPDATE`,
      [JSON.stringify(keys)],
      rows.length + 1,
    );
    const now = new Map(current.rows.map(([key, row]) => [canonical(JSON.parse(key!)), JSON.parse(row!) as Record<string, unknown>]));
    const conflicts = rows.flatMap((r): Conflict[] => {
      const key = keyOf(target, (r.before ?? r.after)!);
      const found = now.get(canonical(JSON.parse(key)));
      if (kind === "delete") return found ? [{ key, why: "a row with this key exists again" }] : [];
      if (!found) return [{ key, why: "the row is gone" }];
      return canonical(found) === canonical(r.after) ? [] : [{ key, why: "the row changed since" }];
    });
    if (conflicts.length > 0) {
      await session.query("ROLLBACK");
      return { ok: false, conflicts };
    }
    const columns = target.columns.map(ident);
    const values = JSON.stringify(rows.map((r) => (kind === "insert" ? target.key.map((k) => r.after![k]) : r.before)));
    const sql =
      kind === "update"
        ? `UPDATE ${target.table} AS t SET ${columns.map((c) => `${c} = r.${c}`).join(", ")} FROM jsonb_populate_recordset(NULL::${target.table}, $1::jsonb) AS r WHERE ${target.key.map((k) => `t.${ident(k)} = r.${ident(k)}`).join(" AND ")}`
        : kind === "delete"
          ? `INSERT INTO ${target.table} (${columns.join(", ")}) OVERRIDING SYSTEM VALUE SELECT ${columns.join(", ")} FROM jsonb_populate_recordset(NULL::${target.table}, $1::jsonb)`
          : `DELETE FROM ${target.table} AS t WHERE ${keyExpr} IN (SELECT jsonb_array_elements($1::jsonb))`;
    const done = await session.query(sql, [values]);
    const count = Number(done.tag.slice(done.tag.lastIndexOf(" ") + 1));
    if (count !== rows.length) throw new Error(`the restore changed ${count} rows, not ${rows.length}`);
    await session.query("COMMIT");
    return { ok: true, restored: count };
  } catch (err) {
    await session.query("ROLLBACK").catch(() => undefined);
    throw err;
  }
}

/** JSON with its keys sorted, so equal values compare equal however PostgreSQL ordered them. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value && typeof value === "object") {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(value);
}
