import fs from "node:fs";
import path from "node:path";

/**
 * The data dir holds every recorded statement with its parameters, the store, the embedded
 * databases and the IdP's keys: only the account Airlock runs as may enter it.
 */
export const DATA_DIR_MODE = 0o700;
/** Files and dirs made by this process (SQLite, PGlite, secrets) get no group or world bits. */
export const PRIVATE_UMASK = 0o077;

/**
 * Makes the data dir private before any store opens it: the umask first (SQLite and PGlite create
 * files with their own modes), then the dir itself, made 0700 or tightened to it with a warning.
 * Call once at process start; worker threads cannot change the umask and inherit this one.
 */
export function preparePrivateDataDir(dataDir: string, warn: (message: string) => void = console.warn): void {
  process.umask(PRIVATE_UMASK);
  ensurePrivateDir(dataDir, warn);
}

/** The dir exists with mode 0700: made so, or tightened (with a warning) when others could enter it. */
export function ensurePrivateDir(dir: string, warn: (message: string) => void = console.warn): void {
  fs.mkdirSync(dir, { recursive: true, mode: DATA_DIR_MODE });
  const mode = fs.statSync(dir).mode & 0o777;
  if ((mode & 0o077) === 0) return;
  warn(`[airlock] data dir ${dir} was ${mode.toString(8).padStart(4, "0")}, readable by other users: changing it to 0700`);
  fs.chmodSync(dir, DATA_DIR_MODE);
}

/**
 * Takes group and world bits off everything under `dir`. PGlite (Emscripten's NODEFS) chmods the
 * files it creates to 0666 whatever the umask; the 0700 data dir keeps others from reaching them,
 * and this makes the files themselves private once the engine has made them.
 */
export function tightenTree(dir: string): void {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isSymbolicLink()) continue;
    const full = path.join(entry.parentPath, entry.name);
    const mode = fs.statSync(full).mode & 0o777;
    if (mode & 0o077) fs.chmodSync(full, mode & 0o700);
  }
}
