/**
 * Signed checkpoints of the chain's head: an Ed25519 key in the data dir signs "the chain reached
 * row N with hash H at time T". Whoever rewrites the whole chain from some row on (recomputing
 * every hash) still cannot make the rows match a checkpoint signed before.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { Db } from "../db/client";

export const AUDIT_KEY_FILE = "audit-key.pem";

export interface Checkpoint {
  rowId: number;
  hash: string;
  at: number;
  signature: string | null;
}

function message(c: Pick<Checkpoint, "rowId" | "hash" | "at">): Buffer {
  return Buffer.from(`airlock-audit:${c.rowId}:${c.hash}:${c.at}`);
}

/** The signing key (PEM, PKCS#8), made on first use with mode 0600. */
export function loadAuditKey(dataDir: string): { privateKeyPem: string; publicKeyPem: string } {
  const file = path.join(dataDir, AUDIT_KEY_FILE);
  if (!fs.existsSync(file)) {
    const { privateKey } = generateKeyPairSync("ed25519");
    try {
      fs.writeFileSync(file, privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600, flag: "wx" });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err; // another process made it first: use theirs
    }
  }
  const privateKeyPem = fs.readFileSync(file, "utf8");
  const publicKeyPem = createPublicKey(createPrivateKey(privateKeyPem)).export({ type: "spki", format: "pem" }).toString();
  return { privateKeyPem, publicKeyPem };
}

export function verifyCheckpoint(publicKeyPem: string, c: Checkpoint): boolean {
  return !!c.signature && verify(null, message(c), publicKeyPem, Buffer.from(c.signature, "base64"));
}

/** Signs the current head, if the last checkpoint is older than `everyMs` (or there is none). */
export function checkpointIfDue(db: Db, privateKeyPem: string, everyMs: number, now = new Date()): Checkpoint | undefined {
  const sqlite = db.$client;
  const last = sqlite.prepare("select at, row_id as rowId from audit_anchors where kind = 'checkpoint' order by id desc limit 1").get() as { at: number; rowId: number } | undefined;
  const head = sqlite.prepare("select id, hash from audit_log order by id desc limit 1").get() as { id: number; hash: string } | undefined;
  if (!head || (last && (now.getTime() - last.at < everyMs || last.rowId === head.id))) return undefined;
  const checkpoint = { rowId: head.id, hash: head.hash, at: now.getTime() };
  const signature = sign(null, message(checkpoint), privateKeyPem).toString("base64");
  sqlite.prepare("insert into audit_anchors (kind, at, row_id, hash, signature) values ('checkpoint', ?, ?, ?, ?)").run(checkpoint.at, checkpoint.rowId, checkpoint.hash, signature);
  return { ...checkpoint, signature };
}
