/**
 * VACUUM, ANALYZE, REINDEX, CLUSTER and REFRESH MATERIALIZED VIEW: they change no rows, but they
 * lock and rewrite storage, so the relations they work on are listed as written.
 */
import type { ClusterStmt, RefreshMatViewStmt, ReindexStmt, VacuumStmt } from "libpg-query";
import { relationName, type RelationRef } from "./collector";
import { walkFields, type Walk } from "./walk";

type Obj = Record<string, unknown>;

export function maintenance(w: Walk, type: string, body: Obj): void {
  const out = w.out;
  switch (type) {
    case "VacuumStmt": {
      const stmt = body as VacuumStmt;
      const label = stmt.is_vacuumcmd ? "VACUUM" : "ANALYZE";
      const targets = (stmt.rels ?? [])
        .map((r) => (r as { VacuumRelation?: { relation?: RelationRef } }).VacuumRelation?.relation)
        .filter((r): r is RelationRef => !!r)
        .map(relationName);
      for (const t of targets) out.writes.add(t);
      out.add("maintenance", `${label} maintains ${targets.length ? targets.join(", ") : "every table of the database"}`);
      return walkFields(w, body, undefined, false, new Set(["rels"]));
    }
    case "ReindexStmt": {
      const stmt = body as ReindexStmt;
      const target = stmt.relation ? relationName(stmt.relation) : undefined;
      if (target) out.writes.add(target);
      const scope = (stmt.kind ?? "REINDEX_OBJECT_").slice("REINDEX_OBJECT_".length).toLowerCase();
      return out.add("maintenance", `REINDEX rebuilds the indexes of ${target ?? `${scope} ${stmt.name ?? ""}`.trim()}`);
    }
    case "ClusterStmt": {
      const stmt = body as ClusterStmt;
      const target = stmt.relation ? relationName(stmt.relation) : undefined;
      if (target) out.writes.add(target);
      return out.add("maintenance", `CLUSTER rewrites ${target ?? "every clustered table"}`);
    }
    case "RefreshMatViewStmt": {
      const stmt = body as RefreshMatViewStmt;
      const target = stmt.relation ? relationName(stmt.relation) : "a materialized view";
      out.writes.add(target);
      out.add("maintenance", `REFRESH MATERIALIZED VIEW recomputes ${target}`);
      // Refreshing runs the view's query: it reads the base relations (and calls what they call).
      if (!stmt.skipData) out.readDefinition(target);
      return;
    }
  }
}
