import assert from "node:assert/strict";
import { after, test } from "node:test";
import { openTestStore } from "../../test/support/store";
import { CHAIN_STATUS_MAX_AGE_MS, chainStatus, VERIFY_AGAIN_AFTER_MS, verifyChainNow } from "./chain-status";
import { loadAuditKey } from "./checkpoints";
import { AuditLog } from "./log";

const { store, dataDir, close } = await openTestStore();
after(close);

test("the verdict is kept for a while, walked again when old or when asked, and says when it was taken", async () => {
  const { publicKeyPem } = loadAuditKey(dataDir);
  await new AuditLog(store).append(Array.from({ length: 5 }, (_, i) => ({ at: new Date(i), type: "statement", sql: `select ${i}` })));
  const t0 = new Date(Date.UTC(2026, 0, 1));
  const first = await chainStatus(store, publicKeyPem, { now: t0 });
  assert.ok(first.verdict.ok && first.verdict.rows === 5);
  assert.equal(first.checkedAt, t0);

  await store.sql.run("update audit_log set sql = 'select 42' where id = 3");
  const kept = await chainStatus(store, publicKeyPem, { now: new Date(t0.getTime() + CHAIN_STATUS_MAX_AGE_MS - 1) });
  assert.equal(kept, first, "a fresh verdict is not walked again");
  assert.equal(await verifyChainNow(store, publicKeyPem, new Date(t0.getTime() + VERIFY_AGAIN_AFTER_MS - 1)), first, "asking again at once does not walk");

  const asked = await verifyChainNow(store, publicKeyPem, new Date(t0.getTime() + VERIFY_AGAIN_AFTER_MS));
  assert.deepEqual(asked.verdict.ok ? asked.verdict : { rowId: asked.verdict.rowId }, { rowId: 3 });
  const later = await chainStatus(store, publicKeyPem, { now: new Date(t0.getTime() + VERIFY_AGAIN_AFTER_MS + CHAIN_STATUS_MAX_AGE_MS) });
  assert.notEqual(later, asked, "an old verdict is walked again");
  assert.equal(later.verdict.ok, false);
});

test("views asking while a walk is under way share it", async () => {
  const now = new Date(Date.UTC(2030, 0, 1));
  const { publicKeyPem } = loadAuditKey(dataDir);
  const [a, b] = await Promise.all([verifyChainNow(store, publicKeyPem, now), verifyChainNow(store, publicKeyPem, now)]);
  assert.equal(a, b);
});
