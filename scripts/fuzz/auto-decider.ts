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
  const timer = setInterval(() => {
    for (const request of approvals.list("pending", 100)) {
      const roll = rng.next();
      const result =
        roll < 0.3
          ? approvals.decide({ requestId: request.id, person: ALICE, action: "deny", reason: "fuzz: denied", via: "web" })
          : approvals.decide({ requestId: request.id, person: ALICE, action: "approve", grant: roll < 0.4 ? MINUTE_MS : "once", via: "web" });
      // A duration the rule does not offer is refused; once is always offered.
      if (!result.ok && result.code === "invalid") approvals.decide({ requestId: request.id, person: ALICE, action: "approve", grant: "once", via: "web" });
      decided++;
    }
  }, everyMs);
  return { decided: () => decided, stop: () => clearInterval(timer) };
}
