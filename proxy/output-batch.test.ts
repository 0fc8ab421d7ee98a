import { test } from "node:test";
import assert from "node:assert/strict";
import { OutputBatch } from "./output-batch";

test("adjacent slices of one chunk leave as one uncopied slice", () => {
  const chunk = Buffer.from("aaabbbccc");
  const batch = new OutputBatch();
  batch.add(chunk.subarray(0, 3));
  batch.add(chunk.subarray(3, 6));
  batch.add(chunk.subarray(6, 9));
  const out = batch.take()!;
  assert.equal(out.toString(), "aaabbbccc");
  assert.equal(out.buffer, chunk.buffer);
  assert.equal(batch.take(), undefined);
});

test("a gap or a foreign buffer keeps the order and the bytes", () => {
  const chunk = Buffer.from("aaabbbccc");
  const batch = new OutputBatch();
  batch.add(chunk.subarray(0, 3));
  batch.add(Buffer.from("XY"));
  batch.add(chunk.subarray(6, 9));
  batch.add(chunk.subarray(3, 6));
  assert.equal(batch.take()!.toString(), "aaaXYcccbbb");
});
