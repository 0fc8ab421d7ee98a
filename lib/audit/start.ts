import type { AirlockConfig } from "../config";
import type { Store } from "../db/client";
import type { EventBus } from "../events/bus";
import type { PolicyStatus } from "../policy/source";
import { AuditCapture, type AuditFollower } from "./capture";
import { checkpointIfDue, sharedAuditKey } from "./checkpoints";
import { AuditLog } from "./log";
import { pruneAudit } from "./retention";
import { pruneUndos } from "../approvals/undo/store";

/** How often retention and checkpoints are looked at. */
const HOUSEKEEPING_MS = 60 * 60_000;

/**
 * The audit trail's process-wide part: what happens outside the proxy's statement path is
 * captured from the bus (and handed to `follower`: the webhooks), old rows are pruned, and the
 * head is signed on schedule. Resolves once
 * the first housekeeping is done; `close` waits for what is under way.
 */
export async function startAudit(options: { config: AirlockConfig; store: Store; bus: EventBus; policyStatus: () => PolicyStatus; follower?: AuditFollower }): Promise<{ close(): Promise<void> }> {
  const { config, store } = options;
  const key = await sharedAuditKey(store, config.dataDir);
  const capture = new AuditCapture(store, new AuditLog(store), options.bus, options.policyStatus, options.follower, config.audit.days);
  const housekeeping = async () => {
    try {
      const pruned = await pruneAudit(store, config.audit.days);
      if (pruned > 0) console.log(`[audit] pruned ${pruned} rows older than ${config.audit.days} days`);
      // Approved writes' captured rows past their rule's undo time are personal data no longer kept.
      const expired = await pruneUndos(store);
      if (expired > 0) console.log(`[undo] deleted the captured rows of ${expired} expired undo(s)`);
      await checkpointIfDue(store, key.privateKeyPem, config.audit.checkpointHours * 3_600_000);
    } catch (err) {
      console.error("[audit] housekeeping failed:", err);
    }
  };
  let running = housekeeping();
  await running;
  const timer = setInterval(() => (running = running.then(housekeeping)), HOUSEKEEPING_MS);
  timer.unref();
  return {
    async close() {
      clearInterval(timer);
      await Promise.all([capture.close(), running]);
    },
  };
}
