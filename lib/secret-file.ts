import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { sharedSecret } from "./db/shared-secrets";
import type { Store } from "./db/store";

/** Writes a file only its owner can read, atomically, so a crash never leaves half a key. */
export function writeSecretFile(file: string, content: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, content, { mode: 0o600 });
  fs.renameSync(tmp, file);
}

/** A random secret made on first use and kept in the data dir, so restarts keep it. */
export function loadOrCreateSecret(dataDir: string, name: string): string {
  const file = path.join(dataDir, name);
  if (fs.existsSync(file)) return fs.readFileSync(file, "utf8").trim();
  const secret = randomBytes(32).toString("base64url");
  writeSecretFile(file, secret);
  return secret;
}

/** A random secret all instances on the store share (lib/db/shared-secrets.ts): the data dir's file on SQLite. */
export function sharedRandomSecret(store: Store, dataDir: string, name: string): Promise<string> {
  return sharedSecret(store, name, { local: () => loadOrCreateSecret(dataDir, name), fresh: () => randomBytes(32).toString("base64url") });
}
