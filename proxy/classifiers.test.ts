import { test } from "node:test";
import assert from "node:assert/strict";
import type { Resource } from "../lib/policy/policy-file";
import { createClassifier } from "../lib/sql/classify";
import { TEST_CATALOG } from "../lib/sql/testing";
import { CATALOG_TTL_MS, ResourceClassifiers, type Classifier } from "./classifiers";
import type { Upstream } from "./upstream/upstream";

const RESOURCE = { name: "pg", url: "postgres://db/pg" } as Resource;

/** Counts catalog reads; each can be made to fail, or to wait until let go. */
function classifiers(options: { fail?: () => boolean } = {}) {
  const reads: Array<{ previous?: Classifier }> = [];
  const upstream = { close: () => undefined } as unknown as Upstream;
  const set = new ResourceClassifiers(
    async () => upstream,
    async (_upstream, previous) => {
      reads.push({ previous });
      if (options.fail?.()) throw new Error("catalog unreadable");
      return createClassifier(TEST_CATALOG);
    },
  );
  return { set, reads };
}

test("sessions share one read; a schema change makes the next session wait for one new read, however many changes came", async () => {
  const { set, reads } = classifiers();
  const first = await set.forResource(RESOURCE);
  assert.equal(await set.forResource(RESOURCE), first);
  assert.equal(reads.length, 1);

  for (let i = 0; i < 50; i++) set.invalidate(RESOURCE);
  assert.equal(reads.length, 1, "a migration's DDL reads nothing by itself");
  const [a, b] = await Promise.all([set.forResource(RESOURCE), set.forResource(RESOURCE)]);
  assert.equal(a, b, "sessions starting together share the read");
  assert.notEqual(a, first);
  assert.equal(reads.length, 2);
  assert.equal(reads[1].previous, first, "the reload is given what was known, to keep unchanged parts");
});

test("a change during a read: sessions after it wait for a read made after it", async () => {
  const { set, reads } = classifiers();
  await set.forResource(RESOURCE);
  set.invalidate(RESOURCE);
  const during = set.forResource(RESOURCE);
  set.invalidate(RESOURCE);
  const after = set.forResource(RESOURCE);
  assert.notEqual(await during, await after);
  assert.equal(reads.length, 3);
});

test("a catalog that cannot be read after a change refuses new sessions (never the old one), and is read again by the next", async () => {
  let failing = false;
  const { set, reads } = classifiers({ fail: () => failing });
  await set.forResource(RESOURCE);
  set.invalidate(RESOURCE);
  failing = true;
  await assert.rejects(set.forResource(RESOURCE), /catalog unreadable/);
  assert.ok(reads.length >= 3, `retried (${reads.length - 1} reads)`);
  failing = false;
  const recovered = await set.forResource(RESOURCE);
  assert.ok(recovered);
});

test("the snapshot tells what is known without reading: not read, being read, read (and when), out of date after a change, the last failure", async () => {
  let failing = true;
  const { set, reads } = classifiers({ fail: () => failing });
  assert.deepEqual(set.snapshot(RESOURCE), { state: "not-loaded", lastError: undefined });
  await assert.rejects(set.forResource(RESOURCE), /catalog unreadable/);
  const failed = set.snapshot(RESOURCE);
  assert.equal(failed.state, "not-loaded");
  assert.equal(failed.lastError?.message, "catalog unreadable");
  assert.equal(reads.length, 1, "a snapshot reads nothing");

  failing = false;
  const reading = set.forResource(RESOURCE);
  assert.equal(set.snapshot(RESOURCE).state, "loading");
  await reading;
  const loaded = set.snapshot(RESOURCE);
  assert.equal(loaded.state, "loaded");
  assert.equal(loaded.stale, false);
  assert.equal(loaded.lastError, undefined, "a good read clears the failure");
  assert.ok(loaded.loadedAt && Date.now() - loaded.loadedAt.getTime() < 5000);
  assert.equal(set.snapshot(RESOURCE, Date.now() + CATALOG_TTL_MS).stale, true, "past its time");

  set.invalidate(RESOURCE);
  assert.equal(set.snapshot(RESOURCE).stale, true, "a schema change since the read");
  assert.equal(reads.length, 2);
});
