import assert from "node:assert/strict";
import { test } from "node:test";
import type { CopyFormat } from "../sql/types";
import { maskCopyRow } from "./copy-rows";

const TEXT: CopyFormat = { format: "text", delimiter: "\t", null: "\\N", quote: '"', escape: '"', header: false };
const CSV: CopyFormat = { format: "csv", delimiter: ",", null: "", quote: '"', escape: '"', header: false };
const upper = (i: number, v: string) => (i === 1 ? v.toUpperCase() : undefined);

test("text rows: fields unescaped for the masker, written back escaped; NULL stays NULL", () => {
  assert.equal(maskCopyRow("1\ta\\tb\\\\c\tz\n", TEXT, upper), "1\tA\\tB\\\\C\tz\n");
  assert.equal(maskCopyRow("1\t\\N\tz\n", TEXT, upper), undefined);
  assert.equal(maskCopyRow("1\tx\tz\n", TEXT, (i) => (i === 1 ? null : undefined)), "1\t\\N\tz\n");
  assert.equal(maskCopyRow("1\tx\tz\n", TEXT, () => undefined), undefined);
  assert.equal(maskCopyRow("1;x\\;y;z\n", { ...TEXT, delimiter: ";" }, (i, v) => (i === 1 ? v + ";" : undefined)), "1;x\\;y\\;;z\n");
});

test("CSV rows: quoted fields with delimiters, quotes and newlines; empty unquoted is NULL", () => {
  assert.equal(maskCopyRow('1,"a,""b""\nc",z\n', CSV, upper), '1,"A,""B""\nC",z\n');
  assert.equal(maskCopyRow("1,,z\n", CSV, upper), undefined);
  assert.equal(maskCopyRow('1,"",z\n', CSV, (i, v) => (i === 1 ? `[${v}]` : undefined)), "1,[],z\n");
  assert.equal(maskCopyRow("1,x,z\n", CSV, (i) => (i === 1 ? "" : undefined)), '1,"",z\n');
  const backslash = { ...CSV, escape: "\\" };
  assert.equal(maskCopyRow('1,"a\\"b",z\n', backslash, upper), '1,"A\\"B",z\n');
});
