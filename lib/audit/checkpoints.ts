/**
 * Signed checkpoints of the chain's head: an Ed25519 key in the data dir signs "the chain reached
 * row N with hash H at time T". Whoever rewrites the whole chain from some row on (recomputing
 * every hash) still cannot make the rows match a checkpoint signed before.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { Store } from "../db/client";
import { sharedSecret } from "../db/shared-secrets";
import { lastRow } from "./chain-ends";

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

export interface AuditKey {
  privateKeyPem: string;
  publicKeyPem: string;
}

/** The signing key (PEM, PKCS#8), made on first use with mode 0600. */
export function loadAuditKey(dataDir: string): AuditKey {
  const file = path.join(dataDir, AUDIT_KEY_FILE);
  if (!fs.existsSync(file)) {
    try {
      fs.writeFileSync(file, newKeyPem(), { mode: 0o600, flag: "wx" });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err; // another process made it first: use theirs
    }
  }
  return keyPair(fs.readFileSync(file, "utf8"));
}

/** The key every instance on the store signs with, so each one's checkpoints verify everywhere (lib/db/shared-secrets.ts). */
export async function sharedAuditKey(store: Store, dataDir: string): Promise<AuditKey> {
  return keyPair(await sharedSecret(store, AUDIT_KEY_FILE, { local: () => loadAuditKey(dataDir).privateKeyPem, fresh: newKeyPem }));
}

function newKeyPem(): string {
  return generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" }).toString();
}

function keyPair(privateKeyPem: string): AuditKey {
  const publicKeyPem = createPublicKey(createPrivateKey(privateKeyPem)).export({ type: "spki", format: "pem" }).toString();
  return { privateKeyPem, publicKeyPem };
}

export function verifyCheckpoint(publicKeyPem: string, c: Checkpoint): boolean {
  return !!c.signature && verify(null, message(c), publicKeyPem, Buffer.from(c.signature, "base64"));
}

const LAST_CHECKPOINT = `select at, row_id as "rowId" from audit_anchors where kind = 'checkpoint' order by id desc limit 1`;

/**
 * Signs the current head, if the last checkpoint is older than `everyMs` (or there is none).
 * Under a lock of its own: instances sharing the store look at the schedule one at a time, so
 * one checkpoint is made when it is due, not one per instance.
 */
export function checkpointIfDue(store: Store, privateKeyPem: string, everyMs: number, now = new Date()): Promise<Checkpoint | undefined> {
  return store.transaction(async (tx) => {
    await tx.lock("audit-checkpoint");
    const last = await tx.sql.get<{ at: number; rowId: number }>(LAST_CHECKPOINT);
    const head = await lastRow(tx);
    if (!head || (last && (now.getTime() - last.at < everyMs || last.rowId === head.id))) return undefined;
    const checkpoint = { rowId: head.id, hash: head.hash, at: now.getTime() };
    const signature = sign(null, message(checkpoint), privateKeyPem).toString("base64");
    await tx.sql.run("insert into audit_anchors (kind, at, row_id, hash, signature) values ('checkpoint', ?, ?, ?, ?)", [checkpoint.at, checkpoint.rowId, checkpoint.hash, signature]);
    return { ...checkpoint, signature };
  });
}
