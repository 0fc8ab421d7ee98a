/**
 * For the classifier's tests: a small hand-made catalog over the built-in one, and a runner for
 * tables of cases (text → kinds, reads, writes, functions; what a case omits must be empty).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { BUILTIN_CATALOG } from "./builtin-catalog";
import { classify } from "./classify";
import { sortKinds } from "./collector";
import type { Catalog, Kind, RelationInfo, StatementInfo } from "./types";

/**
 * Built-ins, plus what a real database adds: user functions (one, `lower`, overloading a
 * built-in), user operators, views (nested, across schemas), a view calling a volatile function
 * and a materialized view.
 */
export const TEST_CATALOG: Catalog = {
  readFunctions: BUILTIN_CATALOG.readFunctions,
  userFunctions: new Set(["lower", "audit", "slugify"]),
  userOperators: new Set(["===", "@@@"]),
  userTypes: new Set(["money_box", "positive_int"]),
  views: new Map<string, readonly string[]>([
    ["public.customer_emails", ["public.customers"]],
    ["public.big_orders", ["public.customer_emails", "public.orders"]],
    ["reporting.summary", ["public.big_orders"]],
    ["public.ticket_numbers", ["public.ticket_seq"]],
    ["public.daily_totals", ["public.orders"]],
  ]),
  viewsWithSideEffects: new Set(["public.ticket_numbers"]),
  relations: new Map<string, RelationInfo>([
    ["public.customers", table(16400, ["id", "name", "email", "phone", "card_number", "ssn", "country"])],
    ["public.orders", table(16401, ["id", "customer_id", "order_number", "total", "created_at"])],
    ["public.customer_emails", { oid: 16402, columns: cols(["id", "contact"]), definition: "SELECT customers.id, lower(customers.email) AS contact FROM customers" }],
    ["public.big_orders", { oid: 16403, columns: cols(["order_number", "contact"]), definition: "SELECT o.order_number, e.contact FROM orders o JOIN customer_emails e ON e.id = o.customer_id" }],
  ]),
  relationsByOid: new Map([
    [16400, "public.customers"],
    [16401, "public.orders"],
  ]),
  functionsByOid: new Map([
    [952, { schema: "pg_catalog", name: "lo_open" }],
    [1299, { schema: "pg_catalog", name: "now" }],
  ]),
};

function cols(names: string[]): Array<{ name: string; type: number }> {
  return names.map((name) => ({ name, type: name === "id" || name === "customer_id" ? 23 : 25 }));
}

function table(oid: number, names: string[]): RelationInfo {
  return { oid, columns: cols(names) };
}

export interface Case {
  sql: string;
  kinds: Kind[];
  reads?: string[];
  writes?: string[];
  functions?: string[];
}

/** Union of what every statement of the text does. */
export function summary(statements: readonly StatementInfo[]): Required<Omit<Case, "sql">> {
  const all = (pick: (s: StatementInfo) => readonly string[]) => [...new Set(statements.flatMap(pick))].sort();
  return { kinds: sortKinds(statements.flatMap((s) => s.kinds)), reads: all((s) => s.reads), writes: all((s) => s.writes), functions: all((s) => s.functions) };
}

/** One test per case, named by its SQL. */
export function runCases(title: string, cases: readonly Case[], catalog: Catalog = TEST_CATALOG): void {
  for (const c of cases) {
    test(`${title}: ${c.sql}`, () => {
      const result = classify(c.sql, catalog);
      const got = summary(result.statements);
      const want = { kinds: c.kinds, reads: [...(c.reads ?? [])].sort(), writes: [...(c.writes ?? [])].sort(), functions: [...(c.functions ?? [])].sort() };
      assert.deepEqual(got, want, JSON.stringify(result.statements, null, 1));
      // Every kind beyond a plain select is explained.
      for (const s of result.statements) {
        if (s.kinds.some((k) => k !== "select")) assert.ok(s.reasons.length > 0, `no reason given for ${s.kinds.join(", ")}`);
      }
    });
  }
}
