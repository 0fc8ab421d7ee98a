import { MaskTally, planColumns, type ResultField } from "../lib/masking/column-plan";
import type { StatementMasking } from "../lib/masking/masking";
import type { Masker } from "../lib/masking/strategies";
import type { MaskOptions } from "../lib/policy/policy-file";
import type { Catalog, CopyFormat } from "../lib/sql/types";
import { maskServerMessage } from "./message-masking";
import { Backend } from "./protocol/message-codes";
import type { WireMessage } from "./protocol/message-buffer";
import { readCopyOutResponse, readRowDescription } from "./protocol/reader";
import type { Described, Expected, PendingStatement } from "./response-tracker";
import { ResultMasker } from "./result-masker";
import { PgWireError, SqlState } from "./wire-error";

/** What masking needs of the resource: its catalog, and a masker for a rule's options. */
export interface MaskingContext {
  catalog: Catalog;
  masker(mask: MaskOptions): Masker;
}

/** Extended protocol: what masking needs of a bound portal (kept with the portal in the session's names). */
export interface PortalColumns {
  resultFormats: number[];
  /** Columns a Describe of the portal showed. */
  portal: Described;
  /** Columns a Describe of its prepared statement showed (formats as text). */
  statement: Described;
}

/**
 * One session's side of masking: which columns each result has (from RowDescription, Describe
 * and Bind), a ResultMasker for each masked result as it starts, and errors and notices of
 * statements under masking. The relay tells it what passes; `current` is the request the server
 * is answering now.
 */
export class SessionMasking {
  constructor(
    private readonly ctx: MaskingContext,
    private readonly current: () => Expected | undefined,
  ) {}

  /**
   * An Execute's rows are masked with the columns a Describe showed, or else the first row's
   * width with types unknown (so masked values become NULL): never passed on unmasked.
   */
  executing(statement: PendingStatement, portal: PortalColumns): void {
    const masking = statement.masking?.[0];
    if (!masking) return;
    statement.result = this.#resultMasker(statement, masking, (count) => portal.portal.fields ?? withFormats(portal.statement.fields ?? unknownFields(count), portal.resultFormats));
  }

  /** The masker of the result streaming now, if it is masked. */
  result(): ResultMasker | undefined {
    const head = this.current();
    return head && "statement" in head ? head.statement?.result : undefined;
  }

  /** A result starts (simple Query), or a Describe shows what a statement or portal returns. */
  rowDescription(body: Buffer): void {
    const head = this.current();
    if (head?.kind === "query") {
      const masking = head.statement.masking?.[head.statement.resultIndex];
      if (masking) head.statement.result = this.#resultMasker(head.statement, masking, () => readRowDescription(body));
    } else if ((head?.kind === "describe-portal" || head?.kind === "describe-statement") && head.described) {
      head.described.fields = readRowDescription(body);
    }
  }

  copyOut(body: Buffer): void {
    const head = this.current();
    if (head?.kind !== "query" && head?.kind !== "execute") return;
    const masking = head.statement.masking?.[head.statement.resultIndex];
    if (!masking) return;
    const { format, columns } = readCopyOutResponse(body);
    // Refused at the decision already; should a binary COPY still get here, its rows are not passed on unmasked.
    if (format !== 0) throw PgWireError.fatal(SqlState.InsufficientPrivilege, "airlock: COPY in binary format cannot be masked");
    const fields = Array.from({ length: columns }, (_, i): ResultField => ({ name: `column ${i + 1}`, tableOid: 0, column: 0, type: TEXT_OID, format: 0 }));
    head.statement.result = this.#resultMasker(head.statement, masking, () => fields, masking.output.copy ?? DEFAULT_COPY);
  }

  /** Errors and notices of a statement under masking may quote its data: they are masked too. */
  message({ type, raw }: WireMessage): Buffer {
    if (type !== Backend.ErrorResponse && type !== Backend.NoticeResponse) return raw;
    const head = this.current();
    const statement = head && "statement" in head ? head.statement : undefined;
    const mask = statement?.masking?.find((m) => m !== undefined)?.mask;
    return mask ? maskServerMessage(raw, this.ctx.masker(mask)) : raw;
  }

  #resultMasker(statement: PendingStatement, masking: StatementMasking, fields: (count: number) => ResultField[], copy?: CopyFormat): ResultMasker {
    const { catalog, masker } = this.ctx;
    statement.masked ??= new MaskTally();
    return new ResultMasker((count) => planColumns(masking.mask, masking.output, fields(count), catalog), masker(masking.mask), masking.mask.detect, statement.masked, copy);
  }
}

const TEXT_OID = 25;
const DEFAULT_COPY: CopyFormat = { format: "text", delimiter: "\t", null: "\\N", quote: '"', escape: '"', header: false };

/** Columns of a result Airlock was not shown: their types unknown, so masked values become NULL. */
function unknownFields(count: number): ResultField[] {
  return Array.from({ length: Math.max(count, 0) }, (_, i) => ({ name: `column ${i + 1}`, tableOid: 0, column: 0, type: 0, format: 0 }));
}

/** A Describe of the statement shows formats as text; Bind says which the rows come in. */
function withFormats(fields: ResultField[], formats: number[]): ResultField[] {
  return fields.map((f, i) => ({ ...f, format: formats.length === 0 ? 0 : formats.length === 1 ? formats[0] : (formats[i] ?? 0) }));
}
