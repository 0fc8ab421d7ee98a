import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { boundText, STATEMENT_PREFIX_BYTES } from "./statement-text";

test("a statement that fits is kept whole, with its length and no hash", () => {
  assert.deepEqual(boundText("select 1"), { text: "select 1", bytes: 8, sha256: null });
  const exactly = "x".repeat(STATEMENT_PREFIX_BYTES);
  assert.deepEqual(boundText(exactly), { text: exactly, bytes: STATEMENT_PREFIX_BYTES, sha256: null });
});

test("a longer one is cut to the prefix, with the whole length and hash", () => {
  const text = "y".repeat(STATEMENT_PREFIX_BYTES + 1);
  const bounded = boundText(text);
  assert.equal(bounded.text, text.slice(0, STATEMENT_PREFIX_BYTES));
  assert.equal(bounded.bytes, STATEMENT_PREFIX_BYTES + 1);
  assert.equal(bounded.sha256, createHash("sha256").update(text).digest("hex"));
});

test("the cut falls on a character boundary, counted in UTF-8 bytes", () => {
  // "é" is two bytes, "😀" four (two UTF-16 units): a cut never halves either.
  for (const text of ["a" + "é".repeat(10), "ab" + "😀".repeat(10), "é".repeat(10)]) {
    const bounded = boundText(text, 7);
    assert.ok(Buffer.byteLength(bounded.text) <= 7, bounded.text);
    assert.ok(text.startsWith(bounded.text), `${bounded.text} is a prefix`);
    assert.ok(!bounded.text.includes("\uFFFD"), "no replacement character");
    assert.equal(bounded.bytes, Buffer.byteLength(text));
  }
});
