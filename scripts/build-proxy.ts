/**
 * Compiles `npm run proxy` ahead of time (esbuild: our TypeScript in one file, packages left to
 * node), so the proxy runs on plain node without tsx's loader and its memory: about 80 MB idle
 * instead of 125. Builds only when a source is newer than the build. The worker threads (PGlite's,
 * the audit writer's) get files of their own beside it, where the proxy's
 * `new Worker(new URL("./…-entry.mjs"))` finds them.
 */
import fs from "node:fs";
import path from "node:path";
import { build } from "esbuild";
import { newestMtime } from "./build-if-needed";

export const PROXY_BUILD = path.join("dist", "proxy.mjs");
const SOURCES = ["proxy", "lib", "package-lock.json", "tsconfig.json"];
const ENTRIES = [
  { in: "proxy/standalone.ts", out: "proxy" },
  { in: "proxy/upstream/pglite-worker.ts", out: "pglite-worker-entry" },
  { in: "lib/activity/writer-thread.ts", out: "writer-thread-entry" },
];

export async function buildProxyIfNeeded(): Promise<void> {
  const built = fs.existsSync(PROXY_BUILD) ? fs.statSync(PROXY_BUILD).mtimeMs : 0;
  if (built > Math.max(...SOURCES.map(newestMtime))) return;
  const started = new Date();
  fs.mkdirSync("dist", { recursive: true });
  // Built beside, then renamed into place: a proxy starting meanwhile (another test file) never reads half a file.
  const tmp = fs.mkdtempSync(path.join("dist", ".build-"));
  try {
    await build({
      entryPoints: ENTRIES,
      outdir: tmp,
      outExtension: { ".js": ".mjs" },
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      packages: "external",
      // Unminified, names kept: stack traces read well without source maps, which cost ~25 MB loaded.
      sourcemap: false,
      logLevel: "warning",
    });
    for (const name of fs.readdirSync(tmp)) fs.renameSync(path.join(tmp, name), path.join("dist", name));
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  // As new as the sources it read: a file edited while it ran is newer, and rebuilds next time.
  fs.utimesSync(PROXY_BUILD, started, started);
}

if (import.meta.url === `file://${process.argv[1]}`) await buildProxyIfNeeded();
