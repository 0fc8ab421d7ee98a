/**
 * Stands in for the people: every pending request is approved (once or for a minute) or denied
 * soon after it opens, so held statements end without anyone at a browser.
 */
import type { Decider } from "../../lib/approvals/people";
import type { ApprovalService } from "../../lib/approvals/service";
import type { Rng } from "./rng";

const ALICE: Decider = { email: "alice@example.com", groups: ["db-approvers"], role: "approver" };
const MINUTE_MS = 60_000;

export function startAutoDecider(approvals: ApprovalService, rng: Rng, everyMs = 250): { decided: () => number; stop(): void } {
  let decided = 0;
  let busy = false;
  const decideAll = async () => {
    for (const request of await approvals.list("pending", 100)) {
      const roll = rng.next();
      const result =
        roll < 0.3
          ? await approvals.decide({ requestId: request.id, person: ALICE, action: "deny", reason: "fuzz: denied", via: "web" })
          : await approvals.decide({ requestId: request.id, person: ALICE, action: "approve", grant: roll < 0.4 ? MINUTE_MS : "once", via: "web" });
      // A duration the rule does not offer is refused; once is always offered.
      if (!result.ok && result.code === "invalid") await approvals.decide({ requestId: request.id, person: ALICE, action: "approve", grant: "once", via: "web" });
      decided++;
    }
  };
  const timer = setInterval(() => {
    // One round at a time: a slow store must not pile rounds up.
    if (busy) return;
    busy = true;
    decideAll()
      .catch((err: unknown) => console.error("[fuzz] deciding failed:", err))
      .finally(() => (busy = false));
  }, everyMs);
  return { decided: () => decided, stop: () => clearInterval(timer) };
}
