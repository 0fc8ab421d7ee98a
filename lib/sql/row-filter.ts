/**
 * Row filters (policy `rows:`): a boolean expression over one table's columns, with `{{agent}}`,
 * `{{groups}}` and `{{claims.NAME}}` standing for values from the agent's token. Compiled once at
 * policy load (parsed, and held to a plain expression: columns, constants, built-in operators and
 * casts, AND/OR/NOT, IN, LIKE, IS NULL — no subquery, no function), then rendered per statement
 * from its own tokens, so comments and text around it never reach the rewritten SQL. Values are
 * always SQL literals (escape-string syntax, whatever `standard_conforming_strings` says), never text.
 */
import { scanSync } from "libpg-query";
import { qualifiedName } from "./collector";
import { parseSql, SqlSyntaxError } from "./parser";
import { unwrap, type Obj } from "./tree";
import { names } from "./walk";

/** What the placeholders stand for: the agent's verified identity. */
export interface FilterValues {
  agent: string;
  groups: readonly string[];
  claims: Readonly<Record<string, unknown>>;
}

export interface CompiledRowFilter {
  /** Schema-qualified (`public.orders`). */
  table: string;
  /** As the policy wrote it. */
  source: string;
  /** The expression's tokens; a column is qualified by the caller, a placeholder becomes a literal. */
  tokens: ReadonlyArray<{ text: string; column?: true; placeholder?: string; operator?: string; type?: true }>;
  /** Columns it reads, operators and types it names (checked against the target's catalog per statement). */
  columns: ReadonlySet<string>;
  operators: ReadonlySet<string>;
  types: ReadonlySet<string>;
}

export class RowFilterError extends Error {}

const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;
const PLACEHOLDER_NAME = /^(agent|groups|claims\.[A-Za-z0-9_:-]+)$/;
const PREFIX = "SELECT WHERE ";

/** Operators of PostgreSQL's own that compare, match or compute; none runs user code on built-in types. */
const OPERATORS = new Set(["=", "<>", "!=", "<", "<=", ">", ">=", "~~", "!~~", "~~*", "!~~*", "~", "!~", "~*", "!~*", "+", "-", "*", "/", "%", "||", "@>", "<@", "&&"]);
const EXPR_KINDS = new Set(["AEXPR_OP", "AEXPR_OP_ANY", "AEXPR_OP_ALL", "AEXPR_DISTINCT", "AEXPR_NOT_DISTINCT", "AEXPR_IN", "AEXPR_LIKE", "AEXPR_ILIKE", "AEXPR_BETWEEN", "AEXPR_NOT_BETWEEN"]);
const TYPES = new Set(["text", "varchar", "bpchar", "char", "name", "int2", "int4", "int8", "int", "integer", "smallint", "bigint", "numeric", "float4", "float8", "bool", "boolean", "date", "timestamp", "timestamptz", "uuid", "interval"]);
/** Expression nodes that only combine what is below them. */
const PLAIN = new Set(["BoolExpr", "NullTest", "BooleanTest", "A_ArrayExpr", "List", "CoalesceExpr", "CaseExpr", "CaseWhen"]);

/** A filter's table, schema-qualified; throws RowFilterError for a name that is not one. */
export function filteredTable(table: string): string {
  const parts = table.split(".");
  if (parts.length > 2 || parts.some((p) => !/^[a-z_][a-z0-9_$]*$/.test(p))) throw new RowFilterError(`"${table}" is not a table name (schema.table, lower case)`);
  return parts.length === 2 ? table : qualifiedName(undefined, table);
}

/** Parses and checks one filter; throws RowFilterError saying what is wrong. */
export function compileRowFilter(table: string, source: string): CompiledRowFilter {
  const qualified = filteredTable(table);
  // Each placeholder becomes a parameter, so the parser sees where it stands.
  const placeholders: string[] = [];
  const text = source.replace(PLACEHOLDER, (_, name: string) => {
    if (!PLACEHOLDER_NAME.test(name)) throw new RowFilterError(`unknown placeholder {{${name}}}: use {{agent}}, {{groups}} or {{claims.NAME}}`);
    placeholders.push(name);
    return `$${placeholders.length}`;
  });
  if (text.includes("{{") || text.includes("}}")) throw new RowFilterError("a placeholder is not closed: write {{agent}}, {{groups}} or {{claims.NAME}}");
  let stmts;
  try {
    stmts = parseSql(PREFIX + text).stmts ?? [];
  } catch (err) {
    if (!(err instanceof SqlSyntaxError)) throw err; // the parser is not loaded: not a verdict on the filter
    throw new RowFilterError(`not an SQL expression: ${err.message}`);
  }
  const [type, select] = unwrap(stmts[0]?.stmt);
  const extra = Object.keys(select).filter((k) => k !== "whereClause" && k !== "limitOption" && k !== "op");
  if (stmts.length !== 1 || type !== "SelectStmt" || select.op !== "SETOP_NONE" || extra.length > 0 || !select.whereClause) {
    throw new RowFilterError("must be one boolean expression, nothing around it");
  }
  const found: Found = { columns: new Set<number>(), names: new Set<string>(), params: 0, operators: new Set<string>(), types: new Set<string>(), opAt: new Map(), typeAt: new Set() };
  checkExpression(select.whereClause, found);
  if (found.params !== placeholders.length) throw new RowFilterError("a placeholder must stand alone as a value, not inside quotes, and $n parameters are not allowed");
  const tokens = scanSync(PREFIX + text).tokens.slice(2).filter((t) => !t.tokenName.endsWith("_COMMENT")).map((t) => {
    if (t.tokenName === "PARAM") return { text: t.text, placeholder: placeholders[Number(t.text.slice(1)) - 1] };
    const op = found.opAt.get(t.start);
    if (op !== undefined) return { text: t.text, operator: op };
    if (found.typeAt.has(t.start)) return { text: t.text, type: true as const };
    return found.columns.has(t.start) ? { text: t.text, column: true as const } : { text: t.text };
  });
  if (tokens.some((t) => t.placeholder === undefined && t.text.startsWith("$"))) throw new RowFilterError("$n parameters are not allowed");
  // Operators and types are written schema-qualified (never looked up on the session's search_path):
  // OPERATOR(pg_catalog.=) binds tighter than =, so the expression must keep its shape.
  const spelledOut = tokens.map((t) => (t.placeholder ? t.text : spelled(t, (c) => c))).join(" ");
  const again = unwrap(parseSql(PREFIX + spelledOut).stmts?.[0]?.stmt)[1];
  if (shape(again.whereClause) !== shape(select.whereClause)) throw new RowFilterError("put parentheses around each operand that is itself an operation (e.g. a = (b || c)): Airlock writes the filter's operators as OPERATOR(pg_catalog.op), whose precedence differs");
  return { table: qualified, source, tokens, columns: found.names, operators: found.operators, types: found.types };
}

interface Found {
  columns: Set<number>;
  names: Set<string>;
  params: number;
  operators: Set<string>;
  types: Set<string>;
  /** Where an operator PostgreSQL would look up by name stands, and its name. */
  opAt: Map<number, string>;
  /** Where a type name without a schema stands. */
  typeAt: Set<number>;
}

/** Kinds whose operator is written where the A_Expr stands, and can be written OPERATOR(schema.op). */
const QUALIFIABLE = new Set(["AEXPR_OP", "AEXPR_OP_ANY", "AEXPR_OP_ALL"]);

function checkExpression(node: unknown, found: Found): void {
  if (Array.isArray(node)) return node.forEach((n) => checkExpression(n, found));
  if (node === null || typeof node !== "object") return;
  const [type, body] = unwrap(node);
  switch (type) {
    case "ColumnRef": {
      const fields = body.fields as unknown[];
      const [fieldType, field] = unwrap(fields[0]);
      if (fields.length !== 1 || fieldType !== "String") throw new RowFilterError("name columns bare (region), not qualified (orders.region) or *");
      found.columns.add(body.location as number);
      found.names.add(String(field.sval));
      return;
    }
    case "ParamRef":
      found.params++;
      return;
    case "A_Const":
      return;
    case "A_Expr": {
      const op = names(body.name);
      if (!EXPR_KINDS.has(String(body.kind)) || op.length !== 1 || !OPERATORS.has(op[0])) throw new RowFilterError(`operator ${op.join(".") || String(body.kind)} is not allowed in a row filter`);
      found.operators.add(op[0]);
      if (QUALIFIABLE.has(String(body.kind))) found.opAt.set(body.location as number, op[0]);
      checkExpression(body.lexpr, found);
      return checkExpression(body.rexpr, found);
    }
    case "TypeCast": {
      const typeName = body.typeName as Obj;
      const parts = names(typeName.names);
      const name = parts[parts.length - 1];
      if (!TYPES.has(name) || (parts.length === 2 && parts[0] !== "pg_catalog") || parts.length > 2) throw new RowFilterError(`cast to ${parts.join(".")} is not allowed in a row filter`);
      found.types.add(name);
      if (parts.length === 1) found.typeAt.add(typeName.location as number);
      return checkExpression(body.arg, found);
    }
    default:
      if (!PLAIN.has(type)) throw new RowFilterError(`${describeNode(type)} is not allowed in a row filter (only columns, constants, operators and casts)`);
      for (const value of Object.values(body)) if (value !== null && typeof value === "object") checkExpression(value, found);
  }
}

function describeNode(type: string): string {
  if (type === "SubLink") return "a subquery";
  if (type === "FuncCall") return "a function call";
  return type;
}

/**
 * The filter as SQL for one statement: each column qualified by `qualifier`, each placeholder the
 * agent's value as a literal. Throws RowFilterError when a claim it needs is missing (fail closed).
 */
export function renderRowFilter(filter: CompiledRowFilter, qualifier: string, values: FilterValues): string {
  const out = filter.tokens.map((t) => (t.placeholder ? literalOf(t.placeholder, values) : spelled(t, (c) => `${quoteIdent(qualifier)}.${c}`)));
  return `(${out.join(" ")})`;
}

/** A token as the rewritten statement spells it: operators and types from pg_catalog by name. */
function spelled(t: CompiledRowFilter["tokens"][number], column: (text: string) => string): string {
  if (t.operator !== undefined) return `OPERATOR(pg_catalog.${t.operator})`;
  if (t.type) return `pg_catalog.${t.text}`;
  return t.column ? column(t.text) : t.text;
}

/** A tree's shape: positions dropped, and operator and type names without `pg_catalog`. */
function shape(node: unknown): string {
  return JSON.stringify(node, (key, value: unknown) => {
    if (key === "location" || /(^|_)list_(start|end)$/.test(key)) return undefined;
    if ((key === "name" || key === "names") && Array.isArray(value)) return value.filter((v, i) => !(i === 0 && value.length > 1 && (v as { String?: { sval?: string } }).String?.sval === "pg_catalog"));
    return value;
  });
}

function literalOf(placeholder: string, values: FilterValues): string {
  if (placeholder === "agent") return quoteLiteral(values.agent);
  if (placeholder === "groups") return textArray(values.groups);
  const name = placeholder.slice("claims.".length);
  const value = Object.hasOwn(values.claims, name) ? values.claims[name] : undefined;
  if (typeof value === "string") return quoteLiteral(value);
  if ((typeof value === "number" && Number.isFinite(value)) || typeof value === "boolean") return quoteLiteral(String(value));
  if (Array.isArray(value) && value.every((v) => typeof v === "string" || (typeof v === "number" && Number.isFinite(v)))) return textArray(value.map(String));
  throw new RowFilterError(`the agent's token has no usable claim "${name}", which the row filter on ${"{{claims." + name + "}}"} needs`);
}

function textArray(items: readonly string[]): string {
  return items.length === 0 ? "'{}'::pg_catalog.text[]" : `ARRAY[${items.map(quoteLiteral).join(", ")}]::pg_catalog.text[]`;
}

/** An escape-string literal: means the same with standard_conforming_strings on or off. */
export function quoteLiteral(value: string): string {
  if (value.includes("\0")) throw new RowFilterError("a value with a NUL character cannot be a literal");
  return `E'${value.replace(/\\/g, "\\\\").replace(/'/g, "''")}'`;
}

export function quoteIdent(name: string): string {
  if (name.includes("\0")) throw new RowFilterError("a name with a NUL character");
  return `"${name.replace(/"/g, '""')}"`;
}
