import type { CapturedRow, UndoKind, UndoTarget } from "./types";

/** A capture, or why there is none. */
export type Capture = { kind: UndoKind; target: UndoTarget; rows: CapturedRow[] } | { unavailable: string };

/** A row's key as one string: its key columns' values in key order. */
export function keyOf(target: Pick<UndoTarget, "key">, row: Record<string, unknown>): string {
  return JSON.stringify(target.key.map((k) => row[k]));
}

/**
 * The capture, if it is exactly the rows the statement changed: as many rows as its command tag
 * counts (`changed`), each key once, and for an UPDATE the same keys before and after (a changed
 * key is another row to a restore). `remaining`: for a DELETE, how many of the rows captured
 * before it still exist after it (must be none).
 */
export function exactCapture(kind: UndoKind, target: UndoTarget, changed: number, before: Record<string, unknown>[], after: Record<string, unknown>[], remaining = 0): Capture {
  const keys = (rows: Record<string, unknown>[]) => rows.map((r) => keyOf(target, r));
  const unique = (k: string[]) => new Set(k).size === k.length;
  const inexact = { unavailable: "the rows it changed could not be determined with certainty (the capture and the command tag disagree)" };
  switch (kind) {
    case "insert":
      if (after.length !== changed || !unique(keys(after))) return inexact;
      return { kind, target, rows: after.map((a) => ({ after: a })) };
    case "delete":
      if (before.length !== changed || remaining !== 0 || !unique(keys(before))) return inexact;
      return { kind, target, rows: before.map((b) => ({ before: b })) };
    case "update": {
      if (before.length !== changed || after.length !== changed || !unique(keys(before))) return inexact;
      const afterByKey = new Map(after.map((a) => [keyOf(target, a), a]));
      const rows: CapturedRow[] = [];
      for (const b of before) {
        const a = afterByKey.get(keyOf(target, b));
        if (!a) return { unavailable: "it changed a row's primary key (a restore would write another row)" };
        rows.push({ before: b, after: a });
      }
      return { kind, target, rows };
    }
  }
}

/** Why the table cannot be restored by key, or undefined when it can. */
export function whyNotRestorable(target: UndoTarget & { plain?: boolean; elsewhere?: string | null; volatile?: boolean }): string | undefined {
  if (target.key.length === 0) return "table has no primary key";
  if (target.plain === false) return "table is partitioned or has child tables";
  if (target.elsewhere) return target.elsewhere;
  if (target.volatile) return "its WHERE calls a volatile function (a capture would evaluate it a second time)";
  return undefined;
}
