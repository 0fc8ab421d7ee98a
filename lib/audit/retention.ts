import type { Db } from "../db/client";

/**
 * Removes rows older than `days` from the start of the chain and records the hash the remaining
 * chain starts from, so `audit verify` still walks it. Returns how many rows went.
 */
export function pruneAudit(db: Db, days: number, now = new Date()): number {
  const sqlite = db.$client;
  const cutoff = now.getTime() - days * 86_400_000;
  return sqlite
    .transaction(() => {
      // The oldest rows, up to the first one that is young enough: the chain is cut in one place.
      const firstKept = sqlite.prepare("select min(id) as id from audit_log where at >= ?").get(cutoff) as { id: number | null };
      const last = sqlite
        .prepare(firstKept.id === null ? "select id, hash from audit_log order by id desc limit 1" : "select id, hash from audit_log where id < ? order by id desc limit 1")
        .get(...(firstKept.id === null ? [] : [firstKept.id])) as { id: number; hash: string } | undefined;
      if (!last) return 0;
      const { changes } = sqlite.prepare("delete from audit_log where id <= ?").run(last.id);
      sqlite.prepare("insert into audit_anchors (kind, at, row_id, hash) values ('pruned', ?, ?, ?)").run(now.getTime(), last.id, last.hash);
      return changes;
    })
    .immediate();
}
