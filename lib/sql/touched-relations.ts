/**
 * What a schema change does to relations, for the rest of its session: the session keeps the
 * catalog it started with, so a relation it makes, alters, renames, moves or drops is one that
 * catalog describes wrongly (a view made in a schema earlier on the search_path, a temporary
 * table, a table dropped so the name falls through to another schema's, one made again with other
 * columns). Names are qualified as PostgreSQL would: a new one in the schema CREATE uses, an
 * existing one where the search_path finds it (lib/sql/relation-names.ts).
 */
import { qualifiedName } from "./collector";
import type { RelationChange } from "./search-path";
import { SIMPLE_KINDS } from "./statement-kinds";
import { unwrap, type Obj } from "./tree";

/** Statements that make relations whose names their text does not give: any relation may have changed. */
const NAMES_UNKNOWN = new Set(["DropOwnedStmt", "CreateExtensionStmt", "AlterExtensionStmt", "AlterExtensionContentsStmt", "ImportForeignSchemaStmt"]);
const SCHEMA_CHANGES = new Set(["AlterTableStmt", "RenameStmt", "DropStmt", "CreateTableAsStmt"]);

/** A schema change (DDL): its own names are judged on the catalog plus this session's changes before it. */
export function isSchemaChange(stmt: unknown): boolean {
  const [type] = unwrap(stmt);
  return SIMPLE_KINDS[type]?.kind === "ddl" || SCHEMA_CHANGES.has(type);
}

interface Ref {
  schemaname?: string;
  relname?: string;
  relpersistence?: string;
}

type Change = readonly [string, RelationChange];

/**
 * The relations a DDL statement makes ("exists") or removes ("dropped"); an altered one is made
 * anew. `creation(relname)`: where an unqualified CREATE puts it. Run within withSearchPath.
 */
export function relationChanges(stmt: unknown, creation: (relname: string) => string): Change[] | "all" {
  const [type, body] = unwrap(stmt);
  if (NAMES_UNKNOWN.has(type)) return "all";
  const created = (ref: unknown): Change[] => {
    const r = ref as Ref | undefined;
    if (typeof r?.relname !== "string") return [];
    const name = r.schemaname ? `${r.schemaname}.${r.relname}` : r.relpersistence === "t" ? `pg_temp.${r.relname}` : creation(r.relname);
    return [[name, "exists"]];
  };
  const existing = (ref: unknown): string | undefined => {
    const r = ref as Ref | undefined;
    return typeof r?.relname === "string" ? qualifiedName(r.schemaname, r.relname) : undefined;
  };
  const altered = (ref: unknown): Change[] => {
    const name = existing(ref);
    return name ? [[name, "exists"]] : [];
  };
  switch (type) {
    case "CreateStmt":
      return created(body.relation);
    case "ViewStmt":
      return created(body.view);
    case "CreateTableAsStmt":
      return created((body.into as Obj | undefined)?.rel);
    case "CreateSeqStmt":
      return created(body.sequence);
    case "CreateForeignTableStmt":
      return created((body.base as Obj | undefined)?.relation);
    case "AlterTableStmt":
    case "RuleStmt":
      return altered(body.relation);
    case "RenameStmt": {
      const old = existing(body.relation);
      if (!old || typeof body.newname !== "string") return old ? [[old, "exists"]] : [];
      const schema = old.slice(0, old.lastIndexOf("."));
      return [[old, "dropped"], [`${schema}.${body.newname}`, "exists"]];
    }
    case "AlterObjectSchemaStmt": {
      const old = existing(body.relation);
      const ref = body.relation as Ref | undefined;
      if (!old || !ref?.relname || typeof body.newschema !== "string") return [];
      return [[old, "dropped"], [`${body.newschema}.${ref.relname}`, "exists"]];
    }
    case "DropStmt":
      // A dropped schema takes its relations with it: names may fall through to other schemas.
      if (body.removeType === "OBJECT_SCHEMA") return "all";
      return ((body.objects as unknown[] | undefined) ?? []).flatMap((o): Change[] => {
        const parts = ((o as { List?: { items?: unknown[] } }).List?.items ?? []).map((i) => (i as { String?: { sval?: string } }).String?.sval);
        const name = parts.at(-1);
        if (name === undefined || parts.some((p) => p === undefined)) return [];
        return [[qualifiedName(parts.length > 1 ? parts.at(-2) : undefined, name), "dropped"]];
      });
    case "CreateSchemaStmt": {
      const changes: Change[] = [];
      for (const element of (body.schemaElts as unknown[] | undefined) ?? []) {
        // Elements without a schema go into the schema being made.
        const inner = relationChanges(element, (relname) => `${String(body.schemaname)}.${relname}`);
        if (inner === "all") return "all";
        changes.push(...inner);
      }
      return changes;
    }
    default:
      return [];
  }
}
