import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { canonicalHeld, heldStatements } from "./held-statements";

describe("held statements", () => {
  test("a binary parameter is recorded with its format codes, and never matches a text parameter of the same hex", () => {
    const binary = heldStatements("select $1::bytea", ["\\x41"], [], { formats: [1] });
    const text = heldStatements("select $1::bytea", ["\\x41"], [], { formats: [0] });
    assert.deepEqual(binary[0], { text: "select $1::bytea", params: ["\\x41"], formats: [1] });
    assert.deepEqual(text[0], { text: "select $1::bytea", params: ["\\x41"] }, "all text: no formats recorded");
    assert.notEqual(JSON.stringify(binary.map(canonicalHeld)), JSON.stringify(text.map(canonicalHeld)));
  });

  test("the text row filters run in its place is recorded only when it differs", () => {
    assert.equal(heldStatements("update t set v = 1", undefined, [], { runs: "update t set v = 1" })[0].runs, undefined);
    assert.equal(heldStatements("update t set v = 1", undefined, [], { runs: "update t set v = 1 where r = 'eu'" })[0].runs, "update t set v = 1 where r = 'eu'");
  });
});
