import assert from "node:assert/strict";
import { after, test } from "node:test";
import { makeTempDir } from "../../test/support/temp-dir";
import { openStore } from "../db/client";
import { CHAIN_STATUS_MAX_AGE_MS, chainStatus, VERIFY_AGAIN_AFTER_MS, verifyChainNow } from "./chain-status";
import { loadAuditKey } from "./checkpoints";
import { AuditLog } from "./log";

const dir = makeTempDir("audit-chain-status");
const store = openStore(dir.path, "drizzle");
after(() => {
  store.close();
  dir.remove();
});

test("the verdict is kept for a while, walked again when old or when asked, and says when it was taken", () => {
  const { publicKeyPem } = loadAuditKey(dir.path);
  new AuditLog(store.db).append(Array.from({ length: 5 }, (_, i) => ({ at: new Date(i), type: "statement", sql: `select ${i}` })));
  const t0 = new Date(Date.UTC(2026, 0, 1));
  const first = chainStatus(store.db, publicKeyPem, { now: t0 });
  assert.ok(first.verdict.ok && first.verdict.rows === 5);
  assert.equal(first.checkedAt, t0);

  store.db.$client.prepare("update audit_log set sql = 'select 42' where id = 3").run();
  const kept = chainStatus(store.db, publicKeyPem, { now: new Date(t0.getTime() + CHAIN_STATUS_MAX_AGE_MS - 1) });
  assert.equal(kept, first, "a fresh verdict is not walked again");
  assert.equal(verifyChainNow(store.db, publicKeyPem, new Date(t0.getTime() + VERIFY_AGAIN_AFTER_MS - 1)), first, "asking again at once does not walk");

  const asked = verifyChainNow(store.db, publicKeyPem, new Date(t0.getTime() + VERIFY_AGAIN_AFTER_MS));
  assert.deepEqual(asked.verdict.ok ? asked.verdict : { rowId: asked.verdict.rowId }, { rowId: 3 });
  const later = chainStatus(store.db, publicKeyPem, { now: new Date(t0.getTime() + VERIFY_AGAIN_AFTER_MS + CHAIN_STATUS_MAX_AGE_MS) });
  assert.notEqual(later, asked, "an old verdict is walked again");
  assert.equal(later.verdict.ok, false);
});
