/**
 * One Airlock instance for test/webhooks/restart.test.ts, in a process of its own so that it can
 * be killed mid-try: it opens a request on the SQLite store in argv[2], whose event goes to the
 * webhook at argv[3], says so on stdout, and runs until killed.
 */
import { heldUpdate } from "../../lib/approvals/testing";
import { openStore } from "../../lib/db/client";
import { FAST, webhookInstance, webhookPolicy } from "./setup";

const [dataDir, url, holdMs] = process.argv.slice(2);
const store = await openStore({ dataDir });
const policy = webhookPolicy(url, { events: ["request.opened"] });
// A try that waits for the receiver as long as it takes: only the kill ends it.
const instance = await webhookInstance(store, () => policy, { timing: { ...FAST, holdMs: Number(holdMs), tryTimeoutMs: 600_000 } });
const request = await instance.approvals.open(heldUpdate());
console.log(JSON.stringify({ opened: request.id }));
setInterval(() => undefined, 60_000);
