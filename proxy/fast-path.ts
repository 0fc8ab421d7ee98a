import type { Catalog } from "../lib/sql/types";

/**
 * The fast-path function call (libpq's PQfn: psql's \lo_import, \lo_export, \lo_unlink) names a
 * function by OID, with no SQL. It is judged as what it is: a call of that function with those
 * arguments, written as SQL. A function the catalog does not know gives nothing to judge.
 * https://www.postgresql.org/docs/current/protocol-flow.html#PROTOCOL-FLOW-FUNCTION-CALL
 */
export function fastPathSql(oid: number, argumentCount: number, catalog: Catalog): string | undefined {
  const fn = catalog.functionsByOid.get(oid);
  if (!fn) return undefined;
  const args = Array.from({ length: argumentCount }, (_, i) => `$${i + 1}`).join(", ");
  return `SELECT ${quoteIdent(fn.schema)}.${quoteIdent(fn.name)}(${args})`;
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

// Its result is a bare value, not a row Airlock can trace or mask: under masking it is refused
// (refusals.fastPathUnmaskable in lib/decision/refusals.ts).
