import { maskText, planColumns, resultLineages } from "../../masking/column-plan";
import type { Masker } from "../../masking/strategies";
import type { MaskOptions } from "../../policy/policy-file";
import type { PreviewOptions } from "../../policy/preview";
import type { Catalog, OutputLineage } from "../../sql/types";
import type { HeldStatement } from "../held-statements";
import type { AgentReads } from "./agent-reads";
import { ddlRisks, withSizes } from "./ddl-risk";
import { dryRun, type SampleRows } from "./dry-run";
import { estimateRows } from "./estimate";
import { kindOf, previewStatements, userFunctionsOf, WRITE_NODES } from "./statements";
import type { ImpactPreview, PreviewResult, PreviewSession, StatementPreview } from "./types";

/** The statement text kept in a preview. */
const TEXT_CHARS = 300;

export interface PreviewInput {
  /** What the request runs, as it recorded it (with the bound parameters). */
  statements: ReadonlyArray<HeldStatement>;
  /** Airlock's own session on the resource: never an agent's. */
  session: PreviewSession;
  /** The resource's catalog, as its classifier has it. */
  catalog: Catalog;
  /** The rule's review.preview (a dry run, its timeout); absent: estimates only. */
  options?: PreviewOptions;
  /** How the agent's reads are masked (lib/masking requesterMask), and its masker. */
  mask?: MaskOptions;
  masker?(mask: MaskOptions): Masker;
  /** Why the agent may not read a table (agent-reads.ts); absent, no sample value is shown. */
  reads?: AgentReads;
}

/**
 * A request's impact preview: each write's estimate, each schema change's risk, and, when the rule
 * asks for it and it is safe, the exact count of a dry run with a masked sample. Reused for any
 * request that runs statements (a revert's preview is made the same way).
 */
export async function buildPreview(input: PreviewInput): Promise<ImpactPreview> {
  const started = Date.now();
  const done = (preview: Omit<ImpactPreview, "at" | "tookMs">): ImpactPreview => ({ at: new Date().toISOString(), tookMs: Date.now() - started, ...preview });
  const statements = previewStatements(input.statements, input.catalog);
  if ("unavailable" in statements) return done({ statements: [], unavailable: statements.unavailable });
  const { session, catalog } = input;

  const out: StatementPreview[] = [];
  for (const statement of statements) {
    const preview: StatementPreview = { text: cut(statement.text), kind: kindOf(statement) };
    if (WRITE_NODES.has(statement.node)) {
      const user = userFunctionsOf(statement, catalog);
      // Planning may evaluate a function declared immutable: a user function's is not run for a preview.
      preview.estimate = user.length > 0 ? { error: `it calls user-defined function ${user.join(", ")}, which planning could run` } : await estimateRows(session, statement);
    }
    const risks = ddlRisks(statement, catalog);
    if (risks) preview.ddl = await withSizes(session, risks);
    out.push(preview);
  }

  if (input.options?.dryRun && statements.some((s) => WRITE_NODES.has(s.node))) {
    const results = await dryRun({ session, catalog, timeoutMs: input.options.dryRunTimeoutMs, mask: (fields, rows, table, output) => maskRows(input, fields, rows, table, output) }, statements);
    results.forEach((result, i) => (out[i].dryRun = result));
  }
  return done({ statements: out });
}

/** A sample value the agent could not have read, shown in its place. */
export const WITHHELD = "[withheld]";

/**
 * Rows as the agent's reads would show them: by the lineage of its own RETURNING, else as the
 * columns of the table written. A column from a table the agent may not read (or of untraced
 * origin) is withheld, and the whole sample when no column is left; the rest masked as its reads are.
 */
function maskRows(input: PreviewInput, fields: PreviewResult["fields"], rows: Array<Array<string | null>>, table: string, lineage?: OutputLineage): SampleRows {
  const output = lineage ?? { all: { sources: [] }, columns: fields.map((f) => ({ name: f.name, sources: [`${table}.${f.name}`] })) };
  const typed = fields.map((f) => ({ ...f, format: 0 }));
  const reads = input.reads ?? ((t: string) => `it is not known whether the agent may read ${t}`);
  const why = resultLineages(output, typed, input.catalog).map((l) => (l.unknown ? "its origin cannot be traced" : l.sources.map((s) => reads(s.slice(0, s.lastIndexOf(".")))).find(Boolean)));
  if (why.length > 0 && why.every(Boolean)) return { rows: [], withheld: `sample withheld: ${[...new Set(why)].join("; ")}` };
  const held = why.flatMap((w, i) => (w ? [i] : []));
  const withheld = held.length > 0 ? `withheld: ${held.map((i) => fields[i].name).join(", ")} (${[...new Set(held.map((i) => why[i]))].join("; ")})` : undefined;
  const { mask, masker } = input;
  const plan = mask && masker ? planColumns(mask, output, typed, input.catalog) : undefined;
  const m = plan && masker!(mask!);
  const shown = rows.map((row) => row.map((value, i) => {
    if (why[i]) return WITHHELD;
    const column = plan?.[i];
    if (!column || !m || value === null) return value;
    const masked = maskText(column, value, m);
    return masked === undefined ? value : masked;
  }));
  return withheld ? { rows: shown, withheld } : { rows: shown };
}

function cut(text: string): string {
  return text.length > TEXT_CHARS ? `${text.slice(0, TEXT_CHARS)}…` : text;
}
