/**
 * Statements that define or change objects (DDL), roles and ownership, and the other statements
 * whose kind follows from their type (SIMPLE_KINDS). The relation a statement creates or changes
 * is listed as written; expressions inside are walked without running.
 */
import type { AlterTableStmt, DropStmt, GrantStmt, RenameStmt } from "libpg-query";
import { qualifiedName, relationName, relationsOf, type RelationRef } from "./collector";
import { objectLabel, PRIVILEGE_SETTINGS, RELATION_OBJECTS, SIMPLE_KINDS, simpleReason, type SimpleKind } from "./statement-kinds";
import { names, walkFields, type Walk } from "./walk";

type Obj = Record<string, unknown>;

/** Fields of a schema statement that name the relation it creates or changes. */
const TARGET_FIELDS = ["relation", "view", "sequence", "table", "typevar"];

/** ALTER TABLE (and ALTER INDEX/VIEW/SEQUENCE…): OWNER TO is a privilege change, the rest DDL. */
export function alterTable(w: Walk, stmt: AlterTableStmt): void {
  const target = stmt.relation ? relationName(stmt.relation) : "a relation";
  const label = `ALTER ${objectLabel(stmt.objtype)}`;
  const cmds = (stmt.cmds ?? []).map((c) => (c as { AlterTableCmd?: { subtype?: string } }).AlterTableCmd);
  w.out.writes.add(target);
  if (cmds.some((c) => c?.subtype === "AT_ChangeOwner")) w.out.add("privilege", `${label} … OWNER TO changes the owner of ${target}`);
  if (cmds.length === 0 || cmds.some((c) => c?.subtype !== "AT_ChangeOwner")) w.out.add("ddl", `${label} changes ${target}`);
  walkFields(w, stmt as Obj, undefined, false, new Set(["relation"]));
}

export function rename(w: Walk, stmt: RenameStmt): void {
  const label = `ALTER ${objectLabel(stmt.renameType)} … RENAME`;
  if (stmt.renameType === "OBJECT_ROLE") return w.out.add("privilege", simpleReason({ kind: "privilege", label }));
  definition(w, { kind: "ddl", label }, stmt as Obj);
}

export function drop(w: Walk, stmt: DropStmt): void {
  const label = `DROP ${objectLabel(stmt.removeType)}`;
  if (!RELATION_OBJECTS.has(stmt.removeType ?? "")) return definition(w, { kind: "ddl", label }, stmt as Obj);
  const targets = (stmt.objects ?? []).map((o) => {
    const parts = names((o as { List?: { items?: unknown[] } }).List?.items);
    return qualifiedName(parts.length > 1 ? parts[parts.length - 2] : undefined, parts[parts.length - 1] ?? "");
  });
  for (const t of targets) w.out.writes.add(t);
  w.out.add("ddl", `${label} removes ${targets.join(", ")}`);
}

/** GRANT/REVOKE on objects is DDL (GRANT of a role is GrantRoleStmt, a privilege change). */
export function grant(w: Walk, stmt: GrantStmt): void {
  const label = stmt.is_grant ? "GRANT" : "REVOKE";
  const onRelations = stmt.targtype === "ACL_TARGET_OBJECT" && (stmt.objtype === "OBJECT_TABLE" || stmt.objtype === "OBJECT_SEQUENCE");
  const targets = onRelations ? relationsOf(stmt.objects) : [];
  for (const t of targets) w.out.writes.add(t);
  w.out.add("ddl", `${label} changes who may use ${targets.length ? targets.join(", ") : `${objectLabel(stmt.objtype).toLowerCase()} objects`}`);
}

export function simple(w: Walk, type: string, body: Obj): void {
  const entry = Object.hasOwn(SIMPLE_KINDS, type) ? SIMPLE_KINDS[type] : undefined;
  if (!entry) return w.out.add("unknown", `${type} is a statement Airlock does not understand`);
  // ALTER DATABASE … SET role (or the like) changes who every later session acts as.
  const setting = (body.setstmt as { name?: string } | undefined)?.name?.toLowerCase();
  if (type === "AlterDatabaseSetStmt" && setting && PRIVILEGE_SETTINGS.has(setting)) w.out.add("privilege", `ALTER DATABASE … SET ${setting} changes privileges`);
  const label = type === "DefineStmt" ? `CREATE ${objectLabel(String(body.kind ?? ""))}` : entry.label;
  definition(w, { kind: entry.kind, label }, type === "CreateForeignTableStmt" ? ((body.base ?? {}) as Obj) : body);
}

/**
 * A statement that defines or changes objects: the relation it names is written; expressions in
 * it are walked without running (a default, a CHECK, an index expression may run later, or now
 * for existing rows, so their calls still count).
 */
function definition(w: Walk, entry: SimpleKind, body: Obj): void {
  const targets: string[] = [];
  for (const field of TARGET_FIELDS) {
    const ref = body[field] as RelationRef | undefined;
    if (ref && typeof ref.relname === "string") targets.push(relationName(ref));
  }
  for (const t of targets) w.out.writes.add(t);
  w.out.add(entry.kind, simpleReason(entry, targets.join(", ") || undefined));
  walkFields(w, body, undefined, false, new Set(TARGET_FIELDS));
}

