/**
 * The statements whose kind follows from their type alone, with the label an explanation uses:
 * schema changes, maintenance, roles and ownership, server administration, session control.
 * A type missing here and from statements.ts is `unknown` (fail closed).
 */
import type { Kind } from "./types";

export interface SimpleKind {
  kind: Kind;
  /** What a person calls the command ("CREATE TABLE"). */
  label: string;
}

const ddl = (label: string): SimpleKind => ({ kind: "ddl", label });
const privilege = (label: string): SimpleKind => ({ kind: "privilege", label });
const session = (label: string): SimpleKind => ({ kind: "session", label });
const admin = (label: string): SimpleKind => ({ kind: "admin", label });

export const SIMPLE_KINDS: Readonly<Record<string, SimpleKind>> = {
  // Schema objects (ALTER TABLE, DROP, GRANT, RENAME and CREATE TABLE AS are in statements.ts).
  CreateStmt: ddl("CREATE TABLE"),
  CreateSchemaStmt: ddl("CREATE SCHEMA"),
  AlterCollationStmt: ddl("ALTER COLLATION"),
  AlterDomainStmt: ddl("ALTER DOMAIN"),
  AlterDefaultPrivilegesStmt: ddl("ALTER DEFAULT PRIVILEGES"),
  AlterTableMoveAllStmt: ddl("ALTER … ALL IN TABLESPACE"),
  CreateExtensionStmt: ddl("CREATE EXTENSION"),
  AlterExtensionStmt: ddl("ALTER EXTENSION"),
  AlterExtensionContentsStmt: ddl("ALTER EXTENSION"),
  CreateFdwStmt: ddl("CREATE FOREIGN DATA WRAPPER"),
  AlterFdwStmt: ddl("ALTER FOREIGN DATA WRAPPER"),
  CreateForeignServerStmt: ddl("CREATE SERVER"),
  AlterForeignServerStmt: ddl("ALTER SERVER"),
  CreateForeignTableStmt: ddl("CREATE FOREIGN TABLE"),
  CreateUserMappingStmt: ddl("CREATE USER MAPPING"),
  AlterUserMappingStmt: ddl("ALTER USER MAPPING"),
  DropUserMappingStmt: ddl("DROP USER MAPPING"),
  ImportForeignSchemaStmt: ddl("IMPORT FOREIGN SCHEMA"),
  CreatePolicyStmt: ddl("CREATE POLICY"),
  AlterPolicyStmt: ddl("ALTER POLICY"),
  CreateAmStmt: ddl("CREATE ACCESS METHOD"),
  CreateTrigStmt: ddl("CREATE TRIGGER"),
  CreateEventTrigStmt: ddl("CREATE EVENT TRIGGER"),
  AlterEventTrigStmt: ddl("ALTER EVENT TRIGGER"),
  CreatePLangStmt: ddl("CREATE LANGUAGE"),
  CreateSeqStmt: ddl("CREATE SEQUENCE"),
  AlterSeqStmt: ddl("ALTER SEQUENCE"),
  DefineStmt: ddl("CREATE (aggregate, operator, type, collation or text search object)"),
  CreateDomainStmt: ddl("CREATE DOMAIN"),
  CreateOpClassStmt: ddl("CREATE OPERATOR CLASS"),
  CreateOpFamilyStmt: ddl("CREATE OPERATOR FAMILY"),
  AlterOpFamilyStmt: ddl("ALTER OPERATOR FAMILY"),
  CommentStmt: ddl("COMMENT"),
  IndexStmt: ddl("CREATE INDEX"),
  CreateStatsStmt: ddl("CREATE STATISTICS"),
  AlterStatsStmt: ddl("ALTER STATISTICS"),
  CreateFunctionStmt: ddl("CREATE FUNCTION"),
  AlterFunctionStmt: ddl("ALTER FUNCTION"),
  AlterObjectDependsStmt: ddl("ALTER … DEPENDS ON EXTENSION"),
  AlterObjectSchemaStmt: ddl("ALTER … SET SCHEMA"),
  AlterOperatorStmt: ddl("ALTER OPERATOR"),
  AlterTypeStmt: ddl("ALTER TYPE"),
  RuleStmt: ddl("CREATE RULE"),
  CompositeTypeStmt: ddl("CREATE TYPE"),
  CreateEnumStmt: ddl("CREATE TYPE"),
  CreateRangeStmt: ddl("CREATE TYPE"),
  AlterEnumStmt: ddl("ALTER TYPE"),
  ViewStmt: ddl("CREATE VIEW"),
  CreatedbStmt: ddl("CREATE DATABASE"),
  AlterDatabaseStmt: ddl("ALTER DATABASE"),
  AlterDatabaseRefreshCollStmt: ddl("ALTER DATABASE"),
  AlterDatabaseSetStmt: ddl("ALTER DATABASE … SET"),
  DropdbStmt: ddl("DROP DATABASE"),
  CreateConversionStmt: ddl("CREATE CONVERSION"),
  CreateCastStmt: ddl("CREATE CAST"),
  CreateTransformStmt: ddl("CREATE TRANSFORM"),
  DropOwnedStmt: ddl("DROP OWNED"),
  AlterTSDictionaryStmt: ddl("ALTER TEXT SEARCH DICTIONARY"),
  AlterTSConfigurationStmt: ddl("ALTER TEXT SEARCH CONFIGURATION"),
  CreatePublicationStmt: ddl("CREATE PUBLICATION"),
  AlterPublicationStmt: ddl("ALTER PUBLICATION"),
  CreateSubscriptionStmt: ddl("CREATE SUBSCRIPTION"),
  AlterSubscriptionStmt: ddl("ALTER SUBSCRIPTION"),
  DropSubscriptionStmt: ddl("DROP SUBSCRIPTION"),
  DropTableSpaceStmt: ddl("DROP TABLESPACE"),
  AlterTableSpaceOptionsStmt: ddl("ALTER TABLESPACE"),

  // Roles, membership and ownership.
  CreateRoleStmt: privilege("CREATE ROLE"),
  AlterRoleStmt: privilege("ALTER ROLE"),
  AlterRoleSetStmt: privilege("ALTER ROLE … SET"),
  DropRoleStmt: privilege("DROP ROLE"),
  GrantRoleStmt: privilege("GRANT/REVOKE of a role"),
  AlterOwnerStmt: privilege("ALTER … OWNER TO"),
  SecLabelStmt: privilege("SECURITY LABEL"),
  ReassignOwnedStmt: privilege("REASSIGN OWNED"),

  // The server itself. CREATE TABLESPACE points the server at a directory of its file system.
  AlterSystemStmt: admin("ALTER SYSTEM"),
  CheckPointStmt: admin("CHECKPOINT"),
  LoadStmt: admin("LOAD"),
  CreateTableSpaceStmt: admin("CREATE TABLESPACE"),

  // The session only.
  VariableShowStmt: session("SHOW"),
  ListenStmt: session("LISTEN"),
  UnlistenStmt: session("UNLISTEN"),
  ConstraintsSetStmt: session("SET CONSTRAINTS"),
};

/** The reason a person reads for a statement of a simple kind. */
export function simpleReason({ kind, label }: SimpleKind, target?: string): string {
  const on = target ? ` (${target})` : "";
  switch (kind) {
    case "ddl":
      return `${label} changes the schema${on}`;
    case "privilege":
      return `${label} changes roles or privileges${on}`;
    case "admin":
      return `${label} administers the database server`;
    case "maintenance":
      return `${label} is table maintenance${on}`;
    case "session":
      return `${label} only affects this session`;
    default:
      return `${label} is ${kind}`;
  }
}

/**
 * Settings an agent may not change, and why: who the session acts as, which rows it sees, which
 * function or operator an unqualified name reaches, or how SQL text is read (so that Airlock and
 * the server could parse the same text differently).
 */
export const SECURITY_SETTINGS = new Map([
  ["role", "changes privileges"],
  ["session_authorization", "changes privileges"],
  ["session_replication_role", "changes privileges (it disables triggers and foreign keys)"],
  ["row_security", "changes privileges"],
  ["standard_conforming_strings", "changes how SQL text is read"],
  ["backslash_quote", "changes how SQL text is read"],
  ["client_encoding", "changes how SQL text is read"],
]);
export const PRIVILEGE_SETTINGS: ReadonlySet<string> = new Set(SECURITY_SETTINGS.keys());

/** Relation kinds among DROP targets: their names are listed as written tables. */
export const RELATION_OBJECTS = new Set(["OBJECT_TABLE", "OBJECT_VIEW", "OBJECT_MATVIEW", "OBJECT_SEQUENCE", "OBJECT_INDEX", "OBJECT_FOREIGN_TABLE"]);

/** "OBJECT_MATVIEW" → "MATERIALIZED VIEW", for labels. */
export function objectLabel(objtype: string | undefined): string {
  const name = (objtype ?? "OBJECT_").slice("OBJECT_".length);
  const special: Record<string, string> = { MATVIEW: "MATERIALIZED VIEW", FDW: "FOREIGN DATA WRAPPER", FOREIGN_SERVER: "SERVER", TSCONFIGURATION: "TEXT SEARCH CONFIGURATION", TSDICTIONARY: "TEXT SEARCH DICTIONARY", TSPARSER: "TEXT SEARCH PARSER", TSTEMPLATE: "TEXT SEARCH TEMPLATE", STATISTIC_EXT: "STATISTICS" };
  return special[name] ?? name.replace(/_/g, " ");
}
