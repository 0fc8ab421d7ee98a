import { agentReads } from "../../lib/approvals/preview/agent-reads";
import { buildPreview } from "../../lib/approvals/preview/build";
import { savePreview } from "../../lib/approvals/preview/store";
import type { ImpactPreview } from "../../lib/approvals/preview/types";
import type { Store } from "../../lib/db/client";
import type { AccessRequest } from "../../lib/db/schema";
import type { EventBus } from "../../lib/events/bus";
import { logger } from "../../lib/log";
import { requesterMask } from "../../lib/masking/masking";
import type { Maskers } from "../../lib/masking/maskers";
import type { Policy, Resource } from "../../lib/policy/policy-file";
import type { PreviewOptions } from "../../lib/policy/preview";
import type { Classifier } from "../classifiers";
import type { Upstream } from "../upstream/upstream";
import { createPreviewSession } from "./preview-session";

const log = logger("proxy");

/** A preview that has not finished by then is given up (its connection closed) and says so. */
export const PREVIEW_DEADLINE_MS = 30_000;

/** Airlock's own connection for previews: named, so a DBA sees what it is. */
export const PREVIEW_CONNECTION = new Map([["application_name", "airlock preview"]]);

export interface RequestPreviewsDeps {
  store: Store;
  bus?: EventBus;
  policy(): Policy;
  classifiers: { forResource(resource: Resource): Promise<Classifier> };
  maskers: Maskers;
  connect(resource: Resource): Promise<Upstream>;
  deadlineMs?: number;
}

/**
 * Makes each held request's impact preview once, in the background, on a connection of
 * Airlock's own (never the agent's session), after the request was opened and announced: it
 * never delays the hold's notice. The result is kept with the request and announced as a change
 * of it (page, Slack message, audit). Failures become a preview saying why there is none.
 */
export class RequestPreviews {
  readonly #running = new Set<Promise<void>>();

  constructor(private readonly deps: RequestPreviewsDeps) {}

  /** Starts the preview of a request just opened; returns at once. */
  start(request: AccessRequest, options: PreviewOptions | undefined): void {
    const running = this.#run(request, options)
      .catch((err: unknown) => log.error("a request's preview failed", { err, requestId: request.id }))
      .finally(() => this.#running.delete(running));
    this.#running.add(running);
  }

  /** Resolves once every preview started has been kept (tests, a tidy shutdown). */
  async idle(): Promise<void> {
    while (this.#running.size > 0) await Promise.all([...this.#running]);
  }

  async #run(request: AccessRequest, options: PreviewOptions | undefined): Promise<void> {
    const preview = await this.make(request, options);
    await savePreview(this.deps.store, this.deps.bus, request.id, preview);
  }

  /** The preview of any request's statements, without keeping it (a revert's preview is made the same way). */
  async make(request: Pick<AccessRequest, "resource" | "agentId" | "groups" | "statements"> & { rule?: string }, options: PreviewOptions | undefined): Promise<ImpactPreview> {
    const started = Date.now();
    const unavailable = (why: string): ImpactPreview => ({ at: new Date().toISOString(), tookMs: Date.now() - started, statements: [], unavailable: why });
    const policy = this.deps.policy();
    const resource = policy.resources.get(request.resource);
    if (!resource) return unavailable(`resource ${request.resource} is no longer in the policy`);
    let upstream: Upstream | undefined;
    let timer: NodeJS.Timeout | undefined;
    let givenUp = false;
    const deadlineMs = this.deps.deadlineMs ?? PREVIEW_DEADLINE_MS;
    const deadline = new Promise<ImpactPreview>((resolve) => {
      timer = setTimeout(() => {
        givenUp = true;
        upstream?.close(true);
        resolve(unavailable(resource.url.startsWith("pglite://") ? `the embedded database's one engine stayed busy (an agent's transaction holds it) for ${deadlineMs / 1000} s` : `it took longer than ${deadlineMs / 1000} s`));
      }, deadlineMs);
    });
    const work = (async () => {
      const classifier = await this.deps.classifiers.forResource(resource);
      upstream = await this.deps.connect(resource);
      if (givenUp) upstream.close(true);
      const session = createPreviewSession(upstream);
      const who = { agentId: request.agentId, groups: request.groups, resource: request.resource };
      // The sample shows only what the agent could read itself (agent-reads.ts), masked as its reads are.
      const reads = agentReads(policy, who, classifier.catalog, policy.rules.find((r) => r.name === request.rule));
      return buildPreview({ statements: request.statements, session, catalog: classifier.catalog, options, mask: requesterMask(policy, who), masker: (mask) => this.deps.maskers.for(mask), reads });
    })().catch((err: unknown) => unavailable(`the resource could not be reached for it: ${err instanceof Error ? err.message : String(err)}`));
    try {
      return await Promise.race([work, deadline]);
    } finally {
      clearTimeout(timer);
      upstream?.close();
    }
  }
}
