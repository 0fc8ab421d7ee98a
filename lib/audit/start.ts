import type { AirlockConfig } from "../config";
import type { Db } from "../db/client";
import type { EventBus } from "../events/bus";
import type { PolicyStatus } from "../policy/source";
import { AuditCapture } from "./capture";
import { checkpointIfDue, loadAuditKey } from "./checkpoints";
import { AuditLog } from "./log";
import { pruneAudit } from "./retention";

/** How often retention and checkpoints are looked at. */
const HOUSEKEEPING_MS = 60 * 60_000;

/**
 * The audit trail's process-wide part: what happens outside the proxy's statement path is
 * captured from the bus, old rows are pruned, and the head is signed on schedule.
 */
export function startAudit(options: { config: AirlockConfig; db: Db; bus: EventBus; policyStatus: () => PolicyStatus }): { close(): void } {
  const { config, db } = options;
  const key = loadAuditKey(config.dataDir);
  const capture = new AuditCapture(db, new AuditLog(db), options.bus, options.policyStatus);
  const housekeeping = () => {
    try {
      const pruned = pruneAudit(db, config.audit.days);
      if (pruned > 0) console.log(`[audit] pruned ${pruned} rows older than ${config.audit.days} days`);
      checkpointIfDue(db, key.privateKeyPem, config.audit.checkpointHours * 3_600_000);
    } catch (err) {
      console.error("[audit] housekeeping failed:", err);
    }
  };
  housekeeping();
  const timer = setInterval(housekeeping, HOUSEKEEPING_MS);
  timer.unref();
  return {
    close() {
      clearInterval(timer);
      capture.close();
    },
  };
}
