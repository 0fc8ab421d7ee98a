/**
 * Every route and server action of the built app, read from Next.js's own build output: a page,
 * route handler or action added later is crawled without anyone listing it here.
 */
import fs from "node:fs";
import path from "node:path";

const BUILD = path.resolve(".next");

export interface Route {
  /** The app path, as the build names it: `/(console)/requests/[id]/page`. */
  appPath: string;
  /** The URL path with its dynamic segments filled: `/requests/r_1a2b`. */
  url: string;
  kind: "page" | "route";
  /** For RSC requests: the router state a browser that already shows the layouts would send. */
  stateTree: string;
}

export interface ServerAction {
  id: string;
  name: string;
  /** A page whose bundle holds the action: where a browser would post it. */
  url: string;
}

/** What fills a dynamic segment, by the route it is in; a new dynamic route must add its own. */
export type SegmentValues = Record<string, Record<string, string>>;

export function builtRoutes(values: SegmentValues): Route[] {
  const manifest = JSON.parse(fs.readFileSync(path.join(BUILD, "app-path-routes-manifest.json"), "utf8")) as Record<string, string>;
  return Object.entries(manifest).map(([appPath, pattern]) => {
    const url = pattern.replace(/\[(?:\.\.\.)?([^\]]+)\]/g, (_, name: string) => {
      const value = values[pattern]?.[name];
      if (value === undefined) throw new Error(`the crawl has no value for [${name}] in ${pattern}: add one to its segment values`);
      return encodeURIComponent(value);
    });
    return { appPath, url, kind: appPath.endsWith("/page") ? "page" : "route", stateTree: stateTree(appPath, pattern, values) };
  });
}

export function builtServerActions(routes: Route[]): ServerAction[] {
  const manifest = JSON.parse(fs.readFileSync(path.join(BUILD, "server", "server-reference-manifest.json"), "utf8")) as {
    node: Record<string, { workers: Record<string, unknown>; exportedName: string }>;
  };
  return Object.entries(manifest.node).map(([id, entry]) => {
    const worker = Object.keys(entry.workers)[0].replace(/^app/, "");
    const route = routes.find((r) => r.appPath === worker);
    if (!route) throw new Error(`server action ${entry.exportedName} lives in ${worker}, which is not a crawled route`);
    return { id, name: entry.exportedName, url: route.url };
  });
}

/**
 * `["", {children: ["(console)", {children: ["sessions", {children: ["__PAGE__", {}]}]}]}]`, URL
 * encoded: told this, Next.js renders only what the browser lacks (the page, not its layouts).
 */
function stateTree(appPath: string, pattern: string, values: SegmentValues): string {
  const segments = appPath.split("/").slice(1, -1);
  let tree: unknown[] = ["__PAGE__", {}];
  for (const segment of segments.reverse()) {
    const dynamic = /^\[(?:\.\.\.)?([^\]]+)\]$/.exec(segment);
    const key = dynamic ? [dynamic[1], values[pattern]?.[dynamic[1]] ?? "", "d"] : segment;
    tree = [key, { children: tree }];
  }
  return encodeURIComponent(JSON.stringify(["", { children: tree }, null, null, true]));
}
