import type { Capture } from "../../lib/approvals/undo/exact";
import { saveUndo } from "../../lib/approvals/undo/store";
import type { Store } from "../../lib/db/client";
import type { AccessRequest } from "../../lib/db/schema";
import type { EventBus } from "../../lib/events/bus";
import { logger } from "../../lib/log";

const log = logger("proxy");

/**
 * Keeps what an approved write's guarded run captured for undo (proxy/row-limit.ts) with its
 * request. The statement has committed by then: a capture that cannot be kept leaves the write
 * without undo, which its page then does not offer (logged).
 */
export class RequestUndos {
  readonly #saving = new Set<Promise<void>>();

  constructor(private readonly deps: { store: Store; bus?: EventBus }) {}

  save(request: Pick<AccessRequest, "id" | "resource">, capture: Capture, keepMs: number): void {
    const saving = saveUndo(this.deps.store, this.deps.bus, request, capture, keepMs)
      .catch((err: unknown) => log.error("an approved write's undo could not be kept", { err, requestId: request.id }))
      .finally(() => this.#saving.delete(saving));
    this.#saving.add(saving);
  }

  /** Resolves once every capture handed over is kept (tests, a tidy shutdown). */
  async idle(): Promise<void> {
    while (this.#saving.size > 0) await Promise.all([...this.#saving]);
  }
}
