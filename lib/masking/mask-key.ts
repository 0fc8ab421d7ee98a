/**
 * The key of the `hash` masking strategy: 32 random bytes in `<dataDir>/mask-key`, made on first
 * use and kept, so a value hashes the same across sessions and restarts (joins on masked values
 * keep working from one day to the next). Losing or replacing the file changes every hash.
 */
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { sharedSecret } from "../db/shared-secrets";
import type { Store } from "../db/store";

export const MASK_KEY_BYTES = 32;
export const MASK_KEY_FILE = "mask-key";

export function loadMaskKey(dataDir: string): Buffer {
  const file = path.join(dataDir, MASK_KEY_FILE);
  return readKey(file) ?? createKey(file);
}

/** The key every instance on the store uses: the data dir's on SQLite, the store's on PostgreSQL (lib/db/shared-secrets.ts). */
export async function sharedMaskKey(store: Store, dataDir: string): Promise<Buffer> {
  const value = await sharedSecret(store, MASK_KEY_FILE, {
    local: () => loadMaskKey(dataDir).toString("base64"),
    fresh: () => randomBytes(MASK_KEY_BYTES).toString("base64"),
  });
  return Buffer.from(value, "base64");
}

function readKey(file: string): Buffer | undefined {
  let key: Buffer;
  try {
    key = fs.readFileSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
  if (key.length !== MASK_KEY_BYTES) {
    throw new Error(
      `${file} holds ${key.length} bytes, not a ${MASK_KEY_BYTES}-byte masking key; ` +
        "restore the right file, or delete it to make a new key (every hashed value will change)",
    );
  }
  return key;
}

/**
 * Writes the key whole to a temp file, then links it into place. A link, not a rename: rename
 * replaces an existing file, so two processes starting together would each keep their own key;
 * link fails with EEXIST instead (the `wx` of a whole file), and the loser reads the winner's key.
 * Readers never see a half-written key either way.
 */
function createKey(file: string): Buffer {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`;
  const fd = fs.openSync(tmp, "wx", 0o600);
  try {
    fs.fchmodSync(fd, 0o600); // whatever the umask
    fs.writeSync(fd, randomBytes(MASK_KEY_BYTES));
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  try {
    fs.linkSync(tmp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
  const key = readKey(file);
  if (key === undefined) throw new Error(`${file} vanished just after it was made`);
  return key;
}
