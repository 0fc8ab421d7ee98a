import { parseArgs } from "node:util";
import { AgentApiError } from "../lib/access/agent-api";
import type { Ask } from "../lib/access/ask";
import { scopePhrase } from "../lib/approvals/grant-label";
import type { RequestView } from "../lib/access/view";
import { agentContext } from "./agent-context";

/** Exit codes a script can branch on (0 also: the request was made, without --wait). */
export const EXIT = { approved: 0, failed: 1, usage: 2, denied: 3, expired: 4, ended: 5, pending: 6 } as const;

/** Each long-poll waits this long: under the server's limit of 30 s. */
const POLL_SECONDS = 25;

const USAGE = `usage:
  airlock request --resource NAME (--access read|write|admin | --kinds k1,k2) [--tables t1,t2]
                  --for DURATION [--reason TEXT] [--wait] [--json] [--agent ID]
  airlock request status ID [--wait] [--json] [--agent ID]`;

/** `airlock request`: ask for time-boxed access (and wait for it), or see where a request stands. */
export async function requestCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      resource: { type: "string" },
      access: { type: "string" },
      kinds: { type: "string" },
      tables: { type: "string" },
      for: { type: "string" },
      reason: { type: "string" },
      wait: { type: "boolean", default: false },
      json: { type: "boolean", default: false },
      agent: { type: "string" },
    },
  });
  const { api } = agentContext(values.agent);
  let view: RequestView;
  try {
    if (positionals[0] === "status" && positionals[1]) {
      view = await api.status(positionals[1]);
    } else if (positionals.length === 0 && values.resource && values.for) {
      view = await api.ask(askFrom(values));
      console.error(`airlock: request ${view.id} is waiting for approval: ${view.url}`);
    } else {
      console.error(USAGE);
      return EXIT.usage;
    }
    while (values.wait && view.next === "wait") {
      console.error(`airlock: waiting for people to decide on ${view.id}…`);
      view = await api.status(view.id, POLL_SECONDS);
    }
  } catch (err) {
    if (!(err instanceof AgentApiError)) throw err;
    console.error(`airlock request: ${err.message} (${err.code})`);
    return EXIT.failed;
  }
  return report(view, values.json);
}

function askFrom(values: { resource?: string; access?: string; kinds?: string; tables?: string; for?: string; reason?: string }): Ask {
  const list = (text: string | undefined) => text?.split(",").map((s) => s.trim()).filter(Boolean);
  // The server validates every field; unknown levels and kinds are refused there, by name.
  return {
    resource: values.resource!,
    access: values.access as Ask["access"],
    kinds: list(values.kinds),
    tables: list(values.tables),
    duration: values.for!,
    reason: values.reason,
  };
}

/** Prints the outcome (the DSN on approval, or the whole view with --json) and says it in the exit code. */
function report(view: RequestView, json: boolean): number {
  if (json) {
    console.log(JSON.stringify(view, null, 2));
  } else if (view.next === "connect") {
    console.log(view.dsn);
    console.error(`airlock: approved until ${view.grant?.expires_at}; connect with your agent token as the password`);
  } else {
    console.error(`airlock: ${view.id} ${view.status}: ${view.message}`);
  }
  switch (view.status) {
    case "pending":
      return EXIT.pending;
    case "denied":
      return EXIT.denied;
    case "expired":
      return EXIT.expired;
    case "cancelled":
      return EXIT.ended;
    case "approved":
      return view.next === "stop" ? EXIT.ended : EXIT.approved;
  }
}

/** `airlock grants [--json]`, `airlock grants return ID`: the agent's grants in force, or give one back. */
export async function grantsCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { json: { type: "boolean", default: false }, agent: { type: "string" } } });
  const { api } = agentContext(values.agent);
  try {
    if (positionals[0] === "return" && positionals[1]) {
      const grant = await api.giveBack(positionals[1]);
      console.log(values.json ? JSON.stringify(grant, null, 2) : `${grant.id} ${grant.status}`);
      return EXIT.approved;
    }
    if (positionals.length > 0) {
      console.error("usage: airlock grants [--json] [--agent ID] | airlock grants return ID");
      return EXIT.usage;
    }
    const grants = await api.grants();
    if (values.json) console.log(JSON.stringify(grants, null, 2));
    else if (grants.length === 0) console.log("no grants in force");
    else for (const g of grants) console.log(`${g.id}  ${g.resource}  ${scopePhrase(g.scope)}  until ${g.expires_at}  (approved by ${g.approved_by.join(", ")})`);
    return EXIT.approved;
  } catch (err) {
    if (!(err instanceof AgentApiError)) throw err;
    console.error(`airlock grants: ${err.message} (${err.code})`);
    return EXIT.failed;
  }
}
