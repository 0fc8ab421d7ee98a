/**
 * Builds the dashboard when no build exists or a source file is newer than it, so `npm start`
 * and `npm test` work from a fresh clone and never serve stale pages.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

const SOURCES = ["app", "components", "lib", "idp", "auth.ts", "proxy.ts", "next.config.ts", "package-lock.json", "tsconfig.json"];
const BUILD_ID = path.join(".next", "BUILD_ID");

export function buildIfNeeded(): void {
  const built = fs.existsSync(BUILD_ID) ? fs.statSync(BUILD_ID).mtimeMs : 0;
  const newest = Math.max(...SOURCES.map(newestMtime));
  if (built > newest) return;
  console.log(built ? "[airlock] sources changed since the last build: building" : "[airlock] first start: building the dashboard");
  const started = new Date();
  const result = spawnSync("npx", ["next", "build"], { stdio: "inherit", env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" } });
  if (result.status !== 0) throw new Error("next build failed");
  // The build is as new as the sources it read: a file edited while it ran is newer, and rebuilds next time.
  fs.utimesSync(BUILD_ID, started, started);
}

export function newestMtime(entry: string): number {
  if (!fs.existsSync(entry)) return 0;
  const stat = fs.statSync(entry);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(stat.mtimeMs, ...fs.readdirSync(entry).map((name) => newestMtime(path.join(entry, name))));
}

if (import.meta.url === `file://${process.argv[1]}`) buildIfNeeded();
