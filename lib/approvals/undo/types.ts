/** What an undo keeps of one row an approved write changed: its values before (UPDATE, DELETE) and after (UPDATE, INSERT), as to_jsonb gave them. */
export interface CapturedRow {
  before?: Record<string, unknown>;
  after?: Record<string, unknown>;
}

/** The table the rows are in, as the capture found it in the catalog. */
export interface UndoTarget {
  /** For SQL, quoted where it must be (format %I): `public.accounts`, `public."Odd Name"`. */
  table: string;
  /** For people: `public.accounts`. */
  name: string;
  /** The primary key's columns, in key order. */
  key: string[];
  /** The columns a restore writes (every column but generated ones). */
  columns: string[];
}

export type UndoKind = "insert" | "update" | "delete";

/** How a revert request's one statement starts (lib/approvals/undo/revert.ts): Airlock runs the restore itself. */
export const REVERT_TEXT = "-- Airlock revert of request ";

/** Whether a request is a revert of an approved write (no agent runs it; no preview, no row limit). */
export function isRevert(request: { kind: string; statements: ReadonlyArray<{ text: string }> }): boolean {
  return request.kind === "statement" && request.statements.length === 1 && request.statements[0].text.startsWith(REVERT_TEXT);
}
