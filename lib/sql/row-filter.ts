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
  tokens: ReadonlyArray<{ text: string; column?: true; placeholder?: string; operator?: string; type?: true; raw?: string }>;
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
/**
 * The kinds whose operator Airlock can write OPERATOR(pg_catalog.op): `x IN (a, b)` is written
 * `x OPERATOR(pg_catalog.=) ANY (ARRAY[a, b])`, `NOT IN` `<> ALL` (PostgreSQL's own reading of
 * them), LIKE/ILIKE and their NOT as ~~, ~~*, !~~, !~~*. Others (IS DISTINCT FROM, BETWEEN, NULLIF)
 * have no such spelling: PostgreSQL would look their operator up by name, so they are refused.
 */
const EXPR_KINDS = new Set(["AEXPR_OP", "AEXPR_OP_ANY", "AEXPR_OP_ALL", "AEXPR_IN", "AEXPR_LIKE", "AEXPR_ILIKE"]);
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
  const found: Found = { columns: new Set<number>(), names: new Set<string>(), params: 0, operators: new Set<string>(), types: new Set<string>(), opAt: new Map(), typeAt: new Set(), kindAt: new Map() };
  checkExpression(select.whereClause, found);
  if (found.params !== placeholders.length) throw new RowFilterError("a placeholder must stand alone as a value, not inside quotes, and $n parameters are not allowed");
  const scanned = scanSync(PREFIX + text).tokens.slice(2).filter((t) => !t.tokenName.endsWith("_COMMENT"));
  const tokens: Array<CompiledRowFilter["tokens"][number]> = [];
  for (let i = 0; i < scanned.length; i++) {
    const t = scanned[i];
    if (t.tokenName === "PARAM") {
      tokens.push({ text: t.text, placeholder: placeholders[Number(t.text.slice(1)) - 1] });
      continue;
    }
    const op = found.opAt.get(t.start);
    if (op !== undefined) {
      const kind = found.kindAt.get(t.start);
      // NOT IN, NOT LIKE, NOT ILIKE: located at NOT; the operator's name says it all.
      if (kind && kind !== "AEXPR_OP" && keyword(t, "not")) i++;
      tokens.push({ text: scanned[i].text, operator: op });
      if (kind === "AEXPR_IN") {
        const close = closing(scanned, i + 1);
        tokens.push({ text: "(", raw: `${op === "=" ? "ANY" : "ALL"} (ARRAY[` });
        scanned[close] = { ...scanned[close], text: "])" };
        i++;
      }
      continue;
    }
    if (found.typeAt.has(t.start)) tokens.push({ text: t.text, type: true as const });
    else tokens.push(found.columns.has(t.start) ? { text: t.text, column: true as const } : { text: t.text });
  }
  if (tokens.some((t) => t.placeholder === undefined && t.text.startsWith("$"))) throw new RowFilterError("$n parameters are not allowed");
  // Operators and types are written schema-qualified (never looked up on the session's search_path):
  // OPERATOR(pg_catalog.=) binds tighter than =, so the expression must keep its shape.
  const spelledOut = tokens.map((t) => (t.placeholder ? t.text : spelled(t, (c) => c))).join(" ");
  const again = unwrap(parseSql(PREFIX + spelledOut).stmts?.[0]?.stmt)[1];
  if (shape(again.whereClause) !== shape(normalized(select.whereClause))) throw new RowFilterError("put parentheses around each operand that is itself an operation (e.g. a = (b || c)): Airlock writes the filter's operators as OPERATOR(pg_catalog.op), whose precedence differs");
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
  /** The A_Expr kind of each operator in opAt. */
  kindAt: Map<number, string>;
}

function keyword(t: { text: string; keywordKind: number }, word: string): boolean {
  return t.keywordKind !== 0 && t.text.toLowerCase() === word;
}

/** The index of the `)` closing the `(` at `open`. */
function closing(tokens: ReadonlyArray<{ text: string }>, open: number): number {
  if (tokens[open]?.text !== "(") throw new RowFilterError("Airlock could not find the list of an IN");
  for (let i = open, depth = 0; i < tokens.length; i++) {
    if (tokens[i].text === "(" || tokens[i].text === "[") depth++;
    else if (tokens[i].text === ")" || tokens[i].text === "]") depth--;
    if (depth === 0) return i;
  }
  throw new RowFilterError("Airlock could not find the end of an IN list");
}

/** The tree as written with qualified operators: IN as = ANY / <> ALL of an array, LIKE and ILIKE as operators. */
function normalized(node: unknown): unknown {
  return JSON.parse(JSON.stringify(node), (key, value: unknown) => {
    if (key !== "A_Expr" || value === null || typeof value !== "object") return value;
    const e = value as Obj;
    if (e.kind === "AEXPR_LIKE" || e.kind === "AEXPR_ILIKE") return { ...e, kind: "AEXPR_OP" };
    if (e.kind !== "AEXPR_IN") return value;
    const { rexpr_list_start: _s, rexpr_list_end: _e, ...rest } = e;
    const items = (unwrap(e.rexpr)[1].items as unknown[]) ?? [];
    return { ...rest, kind: names(e.name)[0] === "=" ? "AEXPR_OP_ANY" : "AEXPR_OP_ALL", rexpr: { A_ArrayExpr: { elements: items } } };
  });
}

const KIND_WORDS: Record<string, string> = {
  AEXPR_DISTINCT: "IS DISTINCT FROM",
  AEXPR_NOT_DISTINCT: "IS NOT DISTINCT FROM",
  AEXPR_BETWEEN: "BETWEEN",
  AEXPR_NOT_BETWEEN: "NOT BETWEEN",
  AEXPR_BETWEEN_SYM: "BETWEEN SYMMETRIC",
  AEXPR_NOT_BETWEEN_SYM: "NOT BETWEEN SYMMETRIC",
  AEXPR_NULLIF: "NULLIF",
  AEXPR_SIMILAR: "SIMILAR TO",
};

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
      const kind = String(body.kind);
      if (!EXPR_KINDS.has(kind)) throw new RowFilterError(`${KIND_WORDS[kind] ?? kind} is not allowed in a row filter: PostgreSQL looks its operator up by name, which Airlock cannot pin to pg_catalog's (write plain comparisons with =, <, >, AND, OR)`);
      if (op.length !== 1 || !OPERATORS.has(op[0])) throw new RowFilterError(`operator ${op.join(".") || kind} is not allowed in a row filter`);
      found.operators.add(op[0]);
      found.opAt.set(body.location as number, op[0]);
      found.kindAt.set(body.location as number, kind);
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
    case "CaseExpr":
      // CASE x WHEN v compares x = v with an = looked up by name; CASE WHEN x = v does not.
      if (body.arg) throw new RowFilterError("CASE x WHEN … is not allowed in a row filter: PostgreSQL looks its = up by name; write CASE WHEN x = … instead");
      for (const value of Object.values(body)) if (value !== null && typeof value === "object") checkExpression(value, found);
      return;
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
  if (t.raw !== undefined) return t.raw;
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
