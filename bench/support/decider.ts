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
import { StoreEventTransport } from "../../lib/events/store-transport";

const alice: Decider = { email: "alice@example.com", groups: ["db-approvers"], role: "approver" };
const store = openStore(process.argv[2]);
const bus = new EventBus(new StoreEventTransport(store.db, currentInstance("bench-decider")));
const approvals = new ApprovalService(store.db, new GrantStore(store.db, bus), bus);
const timer = setInterval(() => {
  for (const request of approvals.list("pending")) approvals.decide({ requestId: request.id, person: alice, action: "approve", via: "web" });
}, 2);
process.stdin.resume();
process.stdin.on("end", () => {
  clearInterval(timer);
  bus.close();
  store.close();
});
console.log("ready");
