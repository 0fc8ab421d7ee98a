import { restore } from "../../lib/approvals/undo/restore";
import { claimRevert, recordRevert } from "../../lib/approvals/undo/revert";
import { unfinishedReverts, undoOfRevert } from "../../lib/approvals/undo/store";
import type { Store } from "../../lib/db/client";
import type { EventBus } from "../../lib/events/bus";
import { logger } from "../../lib/log";
import type { Policy, Resource } from "../../lib/policy/policy-file";
import { createPreviewSession } from "../preview/preview-session";
import type { Upstream } from "../upstream/upstream";

const log = logger("proxy");

/** Airlock's own connection for reverts: named, so a DBA sees what it is. */
export const REVERT_CONNECTION = new Map([["application_name", "airlock revert"]]);

/** How often approved reverts whose event was missed (a dropped bus, a restart) are looked for. */
export const REVERT_SWEEP_MS = 15_000;

/**
 * Runs approved reverts (lib/approvals/undo/revert.ts): when a revert request is approved, the
 * proxy that claims it first (one, whichever instance) restores the rows on a connection of its
 * own, all or nothing (lib/approvals/undo/restore.ts), and keeps how it went with the undo.
 */
export class RevertRunner {
  readonly #running = new Set<Promise<void>>();
  readonly #unsubscribe: (() => void) | undefined;
  readonly #sweep: NodeJS.Timeout;

  constructor(private readonly deps: { store: Store; bus?: EventBus; policy(): Policy; connect(resource: Resource): Promise<Upstream> }) {
    this.#unsubscribe = deps.bus?.subscribe((event) => {
      if (event.type === "request.changed" && event.status === "approved") this.#start(event.requestId);
    });
    // Approved while no runner heard it: run at the next sweep (claimed once, whoever runs it).
    const sweep = () => unfinishedReverts(deps.store).then((ids) => ids.forEach((id) => this.#start(id)), (err: unknown) => log.error("looking for approved reverts failed", { err }));
    this.#sweep = setInterval(sweep, REVERT_SWEEP_MS);
    this.#sweep.unref();
    void sweep();
  }

  #start(requestId: string): void {
    const running = this.#run(requestId)
      .catch((err: unknown) => log.error("an approved revert failed", { err, requestId }))
      .finally(() => this.#running.delete(running));
    this.#running.add(running);
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
    clearInterval(this.#sweep);
    this.#unsubscribe?.();
  }
}
