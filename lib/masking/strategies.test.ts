/**
 * Strategies: the exact masked form of each shape, whole values and findings inside text; hashes
 * stable under one key and different under another; nothing found → the very same string.
 */
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { describe, test } from "node:test";
import type { DetectorName } from "./detectors";
import { createMasker, partialAsciiInto, type Strategy } from "./strategies";

const ALL: DetectorName[] = ["email", "card", "ssn", "phone", "iban"];
const KEY = Buffer.alloc(32, 1);
const OTHER_KEY = Buffer.alloc(32, 2);

const masker = (strategy: Strategy, hashKey = KEY, detectors = ALL) => createMasker({ strategy, detectors, hashKey });

describe("partial: a whole value keeps its shape", () => {
  const m = masker("partial");
  const table: Array<[string, string]> = [
    ["alice.smith@example.com", "a***@example.com"],
    ["a@b.co", "a***@b.co"],
    [" bob@example.org ", " b***@example.org "],
    ["4242 4242 4242 4242", "**** **** **** 4242"],
    ["4242-4242-4242-4242", "****-****-****-4242"],
    ["4242424242424242", "************4242"],
    ["4242424242424241", "************4241"], // fails Luhn, still a card's shape
    ["378282246310005", "***********0005"],
    ["123-45-6789", "***-**-6789"],
    ["123 45 6789", "*** ** 6789"],
    ["000-12-3456", "***-**-3456"],
    ["(415) 555-0132", "(***) ***-0132"],
    ["+1 415 555 0132", "+* *** *** 0132"],
    ["+44 (0) 20 7946 0958", "+** (*) ** **** 0958"],
    ["GB82 WEST 1234 5698 7654 32", "GB** **** **** **** **54 32"],
    ["GB82WEST12345698765432", "GB****************5432"],
    // No known shape: the first character of six or more, punctuation and spaces kept.
    ["ZGFuQGV4YW1wbGUuY29t", "Z*******************"],
    ["Alice Smith", "A**** *****"],
    ["2024-01-15", "2***-**-**"],
    ["Zoë Ångström-Öberg", "Z** ********-*****"],
    ["123456789", "1********"],
    // Shorter than six: every character starred.
    ["Alice", "*****"],
    ["a.b", "***"],
    ["", ""],
  ];
  for (const [value, expected] of table) test(`${JSON.stringify(value)} → ${JSON.stringify(expected)}`, () => assert.equal(m.maskValue(value), expected));
});

describe("partial: findings inside text", () => {
  const m = masker("partial");
  const table: Array<[string, string]> = [
    ["mail alice.smith@example.com today", "mail a***@example.com today"],
    ['{"email":"a@b.co","n":1}', '{"email":"a***@b.co","n":1}'],
    ["card 4242 4242 4242 4242, exp 12/29", "card **** **** **** 4242, exp 12/29"],
    ["ssn 123-45-6789.", "ssn ***-**-6789."],
    ["call (415) 555-0132 or +44 20 7946 0958", "call (***) ***-0132 or +** ** **** 0958"],
    ["iban: DE89 3704 0044 0532 0130 00 (main)", "iban: DE** **** **** **** **30 00 (main)"],
    ["a@b.co 4242424242424242", "a***@b.co ************4242"],
  ];
  for (const [text, expected] of table) test(JSON.stringify(text), () => assert.equal(m.maskFindings(text), expected));
});

describe("redact", () => {
  const m = masker("redact");
  test("a whole value", () => {
    assert.equal(m.maskValue("alice@example.com"), "[redacted]");
    assert.equal(m.maskValue("anything"), "[redacted]");
  });
  test("findings name their detector", () => {
    assert.equal(m.maskFindings("from alice@example.com, card 4242424242424242"), "from [redacted email], card [redacted card]");
    assert.equal(m.maskFindings("123-45-6789 / +1 415 555 0132 / NL91ABNA0417164300"), "[redacted ssn] / [redacted phone] / [redacted iban]");
  });
});

describe("hash", () => {
  const m = masker("hash");
  const expected = (value: string, key = KEY) => createHmac("sha256", key).update(value).digest("hex").slice(0, 16);

  test("a keyed HMAC-SHA256 of the exact value, 16 hex characters", () => {
    const h = m.maskValue("alice@example.com");
    assert.match(h ?? "", /^[0-9a-f]{16}$/);
    assert.equal(h, expected("alice@example.com"));
    assert.notEqual(m.maskValue("Alice@example.com"), h, "the exact value: case matters");
  });

  test("stable for the same key, across maskers; different under another key", () => {
    assert.equal(masker("hash").maskValue("4242424242424242"), m.maskValue("4242424242424242"));
    assert.equal(m.maskValue("4242424242424242"), m.maskValue("4242424242424242"));
    assert.notEqual(masker("hash", OTHER_KEY).maskValue("4242424242424242"), m.maskValue("4242424242424242"));
  });

  test("a finding is replaced by the hash of its own text, so it joins with a masked column", () => {
    assert.equal(m.maskFindings("contact alice@example.com now"), `contact ${m.maskValue("alice@example.com")} now`);
    assert.equal(m.maskFindings("4242 4242 4242 4242"), expected("4242 4242 4242 4242"));
  });

  test("long and non-ASCII values hash their UTF-8 bytes", () => {
    const long = "x".repeat(10_000);
    assert.equal(m.maskValue(long), expected(long));
    assert.equal(m.maskValue("zoë@exämple.de"), expected("zoë@exämple.de"));
  });
});

describe("null", () => {
  const m = masker("null");
  test("a whole value becomes SQL NULL", () => assert.equal(m.maskValue("alice@example.com"), null));
  test("text with a finding becomes NULL; text without stays", () => {
    assert.equal(m.maskFindings("mail alice@example.com"), null);
    const clean = "no personal data here";
    assert.equal(m.maskFindings(clean), clean);
  });
});

describe("maskFindings when nothing is found", () => {
  for (const strategy of ["partial", "redact", "hash", "null"] as const) {
    test(`${strategy}: the very same string instance`, () => {
      const m = masker(strategy);
      // Built at run time, so identity is not an accident of interned literals.
      const text = ["order ", String(100_000_123), " at 2024-01-15 10:30:00, v1.2.3, 1234.56"].join("");
      assert.ok(Object.is(m.maskFindings(text), text));
    });
  }

  test("detectors not asked for are not masked", () => {
    const m = masker("redact", KEY, ["ssn"]);
    const text = "alice@example.com 4242424242424242";
    assert.equal(m.maskFindings(text), text);
    assert.equal(m.maskFindings(`${text} 123-45-6789`), `${text} [redacted ssn]`);
  });
});

test("findingCount adds up the findings masked", () => {
  const m = masker("partial");
  assert.equal(m.findingCount, 0);
  m.maskFindings("a@b.co and 4242424242424242");
  m.maskFindings("nothing");
  m.maskValue("alice@example.com");
  assert.equal(m.findingCount, 2);
});

/** partialAsciiInto through a buffer with bytes before and after the value, as in a DataRow. */
function partialAscii(value: Buffer): Buffer | undefined {
  const src = Buffer.concat([Buffer.from("<<"), value, Buffer.from(">>")]);
  const out = Buffer.alloc(value.length + 10, "#");
  const end = partialAsciiInto(src, 2, 2 + value.length, out, 3);
  return end < 0 ? undefined : out.subarray(3, end);
}

test("partialAsciiInto gives exactly what maskValue gives, for every shape, or leaves the value to it", () => {
  const partialWhole = (v: string) => createMasker({ strategy: "partial", detectors: [], hashKey: Buffer.alloc(32) }).maskValue(v);
  for (const value of ["alice.smith@example.com", "a@b.co", "4242 4242 4242 4242", "4242-4242-4242-4242", "4242424242424242", "123-45-6789", "+1 415-555-0132", "(415) 555-0132", "+44 20 7946 0958", "GB82 WEST 1234 5698 7654 32", "x@y.com/870-84-0233", "plain words", "1234", " 123-45-6789", "émile@example.com", "aé@example.com", "an\u00a0@example.com"]) {
    const fast = partialAscii(Buffer.from(value));
    if (fast) assert.equal(fast.toString(), partialWhole(value), value);
  }
  assert.equal(partialAscii(Buffer.from("émile@example.com")), undefined);
  assert.equal(partialAscii(Buffer.from("GB82 WEST 1234 5698 7654 32")), undefined);
});
