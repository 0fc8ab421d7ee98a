/**
 * bench:approval's second process: approves, as alice, every request pending in the store of the
 * data dir it is given, through its own approvals service and the store's event bus, as the
 * dashboard does beside `npm run proxy`. Ends when its parent closes its stdin.
 */
import { GrantStore } from "../../lib/approvals/grants";
import type { Decider } from "../../lib/approvals/people";
import { ApprovalService } from "../../lib/approvals/service";
import { openStore } from "../../lib/db/client";
import { EventBus } from "../../lib/events/bus";
import { currentInstance } from "../../lib/events/instances";
import { eventTransport } from "../../lib/events/transport";

const alice: Decider = { email: "alice@example.com", groups: ["db-approvers"], role: "approver" };
const [dataDir, url] = process.argv.slice(2);
const store = await openStore({ dataDir, url });
const bus = new EventBus(eventTransport(store, currentInstance("bench-decider"), url));
const approvals = new ApprovalService(store, new GrantStore(store, bus), bus);
let busy = false;
const timer = setInterval(() => {
  if (busy) return;
  busy = true;
  void (async () => {
    for (const request of await approvals.list("pending")) await approvals.decide({ requestId: request.id, person: alice, action: "approve", via: "web" });
  })().finally(() => (busy = false));
}, 2);
process.stdin.resume();
process.stdin.on("end", () => {
  clearInterval(timer);
  bus.close();
  void store.close();
});
console.log("ready");
