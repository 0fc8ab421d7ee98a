import assert from "node:assert/strict";
import { test } from "node:test";
import { asciiShape } from "./ascii-shapes";
import { detectWhole } from "./detectors";

/** Printable ASCII values without surrounding spaces, as asciiShape is given them. */
function values(): string[] {
  const fixed = [
    "alice.smith@example.com", "a@b.co", "x@y.com/870-84-0233", "a@-b.com", "a@b-.com", "a@b.c", "a@b.c0m", "a b@c.com", "@example.com", "a@example.com.",
    "a@1.2.3.4.5.6.7.8.9.com", "a@@b.com", "4242 4242 4242 4242", "4242-4242-4242-4242", "4242424242424242", "4242  4242 4242 4242", "4242 4242 4242 4242 ", "424242424242",
    "12345678901234567890", "123-45-6789", "123 45 6789", "123-45 6789", "12-345-6789", "+1 415-555-0132", "+44 20 7946 0958", "+1234567", "+12345678", "+1 (415) 555-0132",
    "+1234567890123456", "(415) 555-0132", "415-555-0132", "GB82 WEST 1234 5698 7654 32", "hello world", "2024-01-15 10:30:00", "+-12345678",
  ];
  // And random strings over the characters the shapes care about.
  const alphabet = "0123456789  --..@@aZ+()x_";
  let seed = 42;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let i = 0; i < 20000; i++) {
    const length = 5 + Math.floor(random() * 20);
    let s = "";
    for (let j = 0; j < length; j++) s += alphabet[Math.floor(random() * alphabet.length)];
    fixed.push(s.trim());
  }
  return fixed.filter((v) => v.length >= 5 && v.length <= 320);
}

test("asciiShape answers as detectWhole does, wherever it answers", () => {
  let answered = 0;
  for (const value of values()) {
    const shape = asciiShape(Buffer.from(value), 0, value.length);
    if (shape === null) continue;
    answered++;
    assert.equal(shape, detectWhole(value), JSON.stringify(value));
  }
  assert.ok(answered > 10000, `answered only ${answered}`);
});

test("asciiShape reads the value where it sits in a larger buffer", () => {
  const b = Buffer.from("@@123-45-6789@@");
  assert.equal(asciiShape(b, 2, 13), "ssn");
});
