/**
 * What to do with each column of one result, and doing it to one value. A column is masked as a
 * whole when anything masked may flow into it (its lineage, or the origin the server names for a
 * plain column); otherwise, with detectors on, its values are searched for PII. Values are bytes
 * in the column's wire format: text-like types are rewritten in place, any other type that must
 * be masked becomes NULL (a string in an integer column would break the client).
 */
import type { MaskOptions } from "../policy/policy-file";
import type { Catalog, ColumnLineage, OutputLineage } from "../sql/types";
import { viewColumns } from "../sql/lineage";
import { columnMasked } from "./masking";
import type { DetectorName } from "./detectors";
import type { Masker } from "./strategies";

/** A result column as RowDescription describes it (COPY: from the catalog or nothing). */
export interface ResultField {
  name: string;
  /** The table (or view) and column number a plain column comes from; 0 for an expression. */
  tableOid: number;
  column: number;
  type: number;
  /** 0 text, 1 binary. */
  format: number;
}

/**
 * How a value's bytes may be rewritten: `text` is a string (text, varchar, char, name…), whole
 * or in part; `structured` (json, arrays, records, types Airlock does not know) only in part, a
 * whole one becomes NULL; `jsonb` binary is a version byte and then text; `opaque` is never
 * rewritten: numbers, dates and binary values become NULL when masked.
 */
export type ValueKind = "text" | "structured" | "jsonb" | "opaque";

export interface ColumnPlan {
  name: string;
  action: "whole" | "detect";
  kind: ValueKind;
}

/** text, varchar, bpchar, name, unknown, "char": the same bytes in text and binary format. */
const TEXT_TYPES = new Set([25, 1043, 1042, 19, 705, 18]);
const JSON_TYPE = 114;
const JSONB_TYPE = 3802;
/** Numbers, booleans, dates, ids…: their text never takes a masked string's shape. */
const SCALAR_TYPES = new Set([16, 20, 21, 23, 26, 700, 701, 790, 1700, 1082, 1083, 1114, 1184, 1186, 1266, 2950, 17]);
/**
 * Types whose values cannot be personal data a detector finds (booleans, floats, dates, times,
 * uuids, small integers): not searched. Wide integers and numeric are: a card number may be one.
 */
const NOTHING_TO_FIND = new Set([16, 21, 23, 26, 700, 701, 1082, 1083, 1114, 1184, 1186, 1266, 2950]);

function kindOf(field: ResultField): ValueKind {
  if (TEXT_TYPES.has(field.type)) return "text";
  if (field.format === 1) return field.type === JSON_TYPE ? "structured" : field.type === JSONB_TYPE ? "jsonb" : "opaque";
  return SCALAR_TYPES.has(field.type) ? "opaque" : "structured";
}

/**
 * The plan for a result: one entry per field, undefined where the value passes unchanged;
 * undefined as a whole when nothing in this result is masked.
 */
export function planColumns(mask: MaskOptions, output: OutputLineage, fields: readonly ResultField[], catalog: Catalog): Array<ColumnPlan | undefined> | undefined {
  const lineages = resultLineages(output, fields, catalog);
  const plan = fields.map((field, i): ColumnPlan | undefined => {
    const lineage = lineages[i];
    const whole = mask.columns.length > 0 && (lineage.unknown === true || lineage.sources.some((s) => columnMasked(mask.columns, s)));
    if (whole) return { name: field.name, action: "whole", kind: kindOf(field) };
    return mask.detect.length > 0 && !NOTHING_TO_FIND.has(field.type) ? { name: field.name, action: "detect", kind: kindOf(field) } : undefined;
  });
  return plan.some(Boolean) ? plan : undefined;
}

/** Each result column's lineage: as Airlock traced it, with the table column the server names. */
export function resultLineages(output: OutputLineage, fields: readonly ResultField[], catalog: Catalog): ColumnLineage[] {
  const exact = output.columns && output.columns.length === fields.length ? output.columns : undefined;
  return fields.map((field, i) => withOrigin(exact?.[i] ?? output.all, field, catalog));
}

/**
 * The server names the table column a plain column reads: that settles an untraced column (a
 * cursor's), and adds to a traced one. A view's column carries what its definition's does.
 */
function withOrigin(lineage: ColumnLineage, field: ResultField, catalog: Catalog): ColumnLineage {
  const relation = field.tableOid !== 0 ? catalog.relationsByOid.get(field.tableOid) : undefined;
  const info = relation ? catalog.relations.get(relation) : undefined;
  const column = info?.columns[field.column - 1];
  if (!relation || !info || !column) return lineage;
  const origin: ColumnLineage = info.definition === undefined ? { sources: [`${relation}.${column.name}`] } : (viewColumns(catalog, relation)[field.column - 1] ?? { sources: [], unknown: true });
  if (lineage.unknown) return origin;
  return { sources: [...lineage.sources, ...origin.sources], ...(origin.unknown ? { unknown: true as const } : {}) };
}

/** Counts what a statement's masking did, for its record. */
export class MaskTally {
  readonly #names: string[] = [];
  values = 0;

  /** A value of result column `index` (named `name`) was masked. */
  add(index: number, name: string): void {
    this.#names[index] ??= name; // one array slot per column, not a Set lookup per value
    this.values++;
  }

  get columns(): string[] {
    return [...new Set(this.#names.filter((n) => n !== undefined))];
  }
}

/**
 * One value through its column's plan: undefined when it passes unchanged, null for SQL NULL,
 * else the new bytes. `value` is the field's bytes in the column's format.
 */
export function maskBytes(plan: ColumnPlan, value: Buffer, masker: Masker, detectors: readonly DetectorName[]): Buffer | null | undefined {
  if (plan.action === "whole" && plan.kind !== "text") return null;
  if (plan.action === "detect" && !mayHoldPii(value, detectors)) return undefined;
  const skip = plan.kind === "jsonb" ? 1 : 0; // binary jsonb: a version byte, then the JSON text
  const masked = maskText(plan, value.toString(plan.kind === "opaque" ? "latin1" : "utf8", skip), masker);
  if (masked === undefined || masked === null) return masked;
  return skip ? Buffer.concat([value.subarray(0, skip), Buffer.from(masked, "utf8")]) : Buffer.from(masked, "utf8");
}

/** maskBytes for a value already a string (a COPY field). */
export function maskText(plan: ColumnPlan, value: string, masker: Masker): string | null | undefined {
  if (plan.action === "whole") return plan.kind === "text" ? masker.maskValue(value) : null;
  const masked = masker.maskFindings(value);
  if (masked === value) return undefined;
  return plan.kind === "opaque" ? null : masked;
}

/**
 * The detectors' own prefilter, on bytes: most values (names, countries, ids) are passed over
 * without being decoded at all.
 */
export function mayHoldPii(value: Buffer, detectors: readonly DetectorName[], start = 0, end = value.length): boolean {
  let digits = 0;
  let at = false;
  for (let i = start; i < end; i++) {
    const c = value[i];
    if (c >= 48 && c <= 57) digits++;
    else if (c === 64) at = true;
  }
  for (const d of detectors) {
    if (d === "email" ? at : d === "iban" ? digits >= 2 && end - start >= 15 : digits >= 8) return true;
  }
  return false;
}
