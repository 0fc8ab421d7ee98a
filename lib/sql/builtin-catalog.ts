/**
 * PostgreSQL's built-in functions as a catalog, for classifying when a resource's own catalog is
 * not loaded (the CLI's explain, tests). It knows no user functions, operators or views, so it
 * judges only built-ins; a proxy classifies with the catalog it loaded from the resource.
 * The data comes from scripts/generate-builtin-catalog.ts.
 */
import READ_FUNCTIONS from "./builtin-read-functions.json";
import type { Catalog, RelationInfo } from "./types";

export const BUILTIN_CATALOG: Catalog = Object.freeze({
  readFunctions: new Set<string>(READ_FUNCTIONS),
  userFunctions: new Set<string>(),
  userOperators: new Set<string>(),
  userTypes: new Set<string>(),
  views: new Map<string, readonly string[]>(),
  viewsWithSideEffects: new Set<string>(),
  relations: new Map<string, RelationInfo>(),
  relationsByOid: new Map<number, string>(),
  functionsByOid: new Map(),
});
