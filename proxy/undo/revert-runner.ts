import { restore } from "../../lib/approvals/undo/restore";
import { claimRevert, recordRevert } from "../../lib/approvals/undo/revert";
import { undoOfRevert } from "../../lib/approvals/undo/store";
import type { Store } from "../../lib/db/client";
import type { EventBus } from "../../lib/events/bus";
import { logger } from "../../lib/log";
import type { Policy, Resource } from "../../lib/policy/policy-file";
import { createPreviewSession } from "../preview/preview-session";
import type { Upstream } from "../upstream/upstream";

const log = logger("proxy");

/** Airlock's own connection for reverts: named, so a DBA sees what it is. */
export const REVERT_CONNECTION = new Map([["application_name", "airlock revert"]]);

/**
 * Runs approved reverts (lib/approvals/undo/revert.ts): when a revert request is approved, the
 * proxy that claims it first (one, whichever instance) restores the rows on a connection of its
 * own, all or nothing (lib/approvals/undo/restore.ts), and keeps how it went with the undo.
 */
export class RevertRunner {
  readonly #running = new Set<Promise<void>>();
  readonly #unsubscribe: (() => void) | undefined;

  constructor(private readonly deps: { store: Store; bus?: EventBus; policy(): Policy; connect(resource: Resource): Promise<Upstream> }) {
    this.#unsubscribe = deps.bus?.subscribe((event) => {
      if (event.type !== "request.changed" || event.status !== "approved") return;
      const running = this.#run(event.requestId)
        .catch((err: unknown) => log.error("an approved revert failed", { err, requestId: event.requestId }))
        .finally(() => this.#running.delete(running));
      this.#running.add(running);
    });
  }

  async #run(requestId: string): Promise<void> {
    const undo = await undoOfRevert(this.deps.store, requestId);
    if (!undo?.rows || !undo.kind || !undo.target || undo.revertedAt) return;
    if (!(await claimRevert(this.deps.store, requestId))) return;
    const resource = this.deps.policy().resources.get(undo.resource);
    if (!resource) return recordRevert(this.deps.store, this.deps.bus, undo, { ok: false, error: `resource ${undo.resource} is no longer in the policy` });
    let upstream: Upstream | undefined;
    try {
      upstream = await this.deps.connect(resource);
      const outcome = await restore(createPreviewSession(upstream), { kind: undo.kind, target: undo.target, rows: undo.rows });
      await recordRevert(this.deps.store, this.deps.bus, undo, outcome);
    } catch (err) {
      await recordRevert(this.deps.store, this.deps.bus, undo, { ok: false, error: err instanceof Error ? err.message : String(err) });
    } finally {
      upstream?.close();
    }
  }

  /** Resolves once every revert under way is done (tests, a tidy shutdown). */
  async idle(): Promise<void> {
    while (this.#running.size > 0) await Promise.all([...this.#running]);
  }

  close(): void {
    this.#unsubscribe?.();
  }
}
