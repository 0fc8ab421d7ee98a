import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import type { RunningAirlock } from "./airlock-server";

/** React's own encoder of server action arguments, the copy Next.js ships: the posts are what a browser sends. */
const { encodeReply } = createRequire(import.meta.url)("next/dist/compiled/react-server-dom-webpack/client.node") as {
  encodeReply(args: unknown[]): Promise<string | FormData>;
};

/**
 * Calls a dashboard server action (`decideRequest`, `revokeGrant`) as a signed-in person's
 * browser does, `(previousState, form)`, posted to `page` (one whose bundle holds the action).
 * Returns the RSC response text, in which the action's result is.
 */
export async function callServerAction(airlock: RunningAirlock, cookie: string, name: string, page: string, fields: Record<string, string>): Promise<string> {
  const manifest = JSON.parse(fs.readFileSync(path.resolve(".next/server/server-reference-manifest.json"), "utf8")) as {
    node: Record<string, { exportedName: string }>;
  };
  const id = Object.entries(manifest.node).find(([, entry]) => entry.exportedName === name)?.[0];
  if (!id) throw new Error(`no server action named ${name} in the build`);
  const form = new FormData();
  for (const [key, value] of Object.entries(fields)) form.set(key, value);
  const res = await fetch(new URL(page, airlock.url), {
    method: "POST",
    headers: { "Next-Action": id, Accept: "text/x-component", cookie },
    body: await encodeReply([undefined, form]),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${name} answered ${res.status}: ${text.slice(0, 500)}`);
  return text;
}
