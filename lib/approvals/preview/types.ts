/**
 * What an approver sees of a held request before deciding (issue 18): per statement, the rows it
 * would change as the planner estimates them, the exact count of a dry run when the rule asks for
 * one (or why there is none), and for DDL what it locks and rewrites. Stored as JSON with the
 * request (request_previews), shown on its page and in its Slack message, recorded in the audit.
 */
export interface ImpactPreview {
  /** When it was made (ISO). */
  at: string;
  /** How long making it took, ms. */
  tookMs: number;
  statements: StatementPreview[];
  /** Why there is no preview at all (the resource could not be reached, the engine was busy…). */
  unavailable?: string;
}

export interface StatementPreview {
  /** The statement's text, cut to a few hundred characters. */
  text: string;
  /** Its kind as classified: insert, update, delete, merge, ddl… */
  kind: string;
  /** The planner's estimate (EXPLAIN, FORMAT JSON, no ANALYZE) of the rows it changes. */
  estimate?: { rows: number } | { error: string };
  /** The dry run: ran in a transaction of Airlock's own and rolled back. */
  dryRun?: DryRun | { skipped: string } | { error: string };
  /** DDL: what it locks, whether it rewrites, on which tables of which size, whether it can be undone. */
  ddl?: DdlRisk[];
}

export interface DryRun {
  /** The exact count, from the command tag. */
  rows: number;
  /** The first changed rows, masked as the agent's reads would be; before is absent for INSERT, after for DELETE. */
  sample: SampleRow[];
  /** The sample's columns, in order. */
  columns: string[];
  /** Why there is no sample, or only half of one (MERGE before PostgreSQL 17, a table without a primary key…). */
  sampleNote?: string;
}

export interface SampleRow {
  before?: Array<string | null>;
  after?: Array<string | null>;
}

export interface DdlRisk {
  /** What it does, in words ("adds column x with a volatile default"). */
  action: string;
  /** The strongest table lock it takes (ACCESS EXCLUSIVE, SHARE, SHARE UPDATE EXCLUSIVE…). */
  lock: string;
  /** It rewrites every row of the table (a new copy of it) under that lock. */
  rewrites: boolean;
  /** It reads every row under that lock (an index build, a constraint's validation) without rewriting. */
  scans?: boolean;
  /** Schema-qualified, when it acts on a table; with its size and row estimate from the catalog. */
  table?: string;
  bytes?: number;
  rowsEstimate?: number;
  /** Whether what it does can be taken back, in words ("no: the dropped data is gone"). */
  undo: string;
}

/** Rows a statement returns as Airlock's own preview connection reads them: text values. */
export interface PreviewResult {
  fields: Array<{ name: string; tableOid: number; column: number; type: number }>;
  /** At most the number asked for; the rest are counted in `rowCount` only. */
  rows: Array<Array<string | null>>;
  rowCount: number;
  /** The command tag (`UPDATE 3`). */
  tag: string;
}

/**
 * Airlock's own session on the resource (never an agent's): statements run one at a time, with
 * parameters bound (the extended protocol) when given: as text, or in the format codes given (a
 * binary one as the hex of its bytes, as a held statement records it). A failed statement rejects
 * with the server's message; inside a transaction the caller rolls back.
 */
export interface PreviewSession {
  query(sql: string, params?: ReadonlyArray<string | null>, maxRows?: number, formats?: readonly number[]): Promise<PreviewResult>;
  /** The server's version number (server_version_num), e.g. 150004. */
  readonly serverVersion: number;
}
