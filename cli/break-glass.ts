import { parseArgs } from "node:util";
import { AgentApiError } from "../lib/access/agent-api";
import { scopePhrase } from "../lib/approvals/grant-label";
import { agentContext } from "./agent-context";
import { EXIT } from "./request";

const USAGE = "usage: airlock break-glass --resource NAME --for DURATION --reason TEXT [--json] [--agent ID]";

/** `airlock break-glass`: emergency access at once, without approval, as policy's break_glass allows; prints the grant. */
export async function breakGlassCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { resource: { type: "string" }, for: { type: "string" }, reason: { type: "string" }, json: { type: "boolean", default: false }, agent: { type: "string" } },
  });
  if (positionals.length > 0 || !values.resource || !values.for) {
    console.error(USAGE);
    return EXIT.usage;
  }
  const { api } = agentContext(values.agent);
  try {
    const grant = await api.breakGlass({ resource: values.resource, duration: values.for, reason: values.reason });
    if (values.json) console.log(JSON.stringify(grant, null, 2));
    else console.log(`${grant.id}  ${grant.resource}  ${scopePhrase(grant.scope)}  until ${grant.expires_at}`);
    console.error("airlock: break-glass granted; people have been alerted, every statement under it is flagged and will be reviewed");
    return EXIT.approved;
  } catch (err) {
    if (!(err instanceof AgentApiError)) throw err;
    console.error(`airlock break-glass: ${err.message} (${err.code})`);
    return EXIT.failed;
  }
}
