/**
 * Detectors on tables of text: what each finds (and where), and the look-alikes it must leave
 * alone — order numbers, ids, dates, amounts, addresses, versions, uuids.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { detectWhole, findPii, type DetectorName } from "./detectors";

const ALL: DetectorName[] = ["email", "card", "ssn", "phone", "iban"];

/** The findings of every detector in `text`, as "detector:found text". */
function found(text: string, detectors: ReadonlySet<DetectorName> | readonly DetectorName[] = ALL): string[] {
  return findPii(text, detectors).map((f) => `${f.detector}:${text.slice(f.start, f.end)}`);
}

/** Each text must yield exactly the findings listed. */
function cases(name: string, table: Array<[text: string, expected: string[]]>): void {
  describe(name, () => {
    for (const [text, expected] of table) {
      test(JSON.stringify(text), () => assert.deepEqual(found(text), expected));
    }
  });
}

cases("email", [
  ["alice@example.com", ["email:alice@example.com"]],
  ["Alice.Smith+tag@mail.example.co.uk", ["email:Alice.Smith+tag@mail.example.co.uk"]],
  ["o_neil-99%x@sub-domain.example.io", ["email:o_neil-99%x@sub-domain.example.io"]],
  ["write to alice@example.com.", ["email:alice@example.com"]],
  ["alice@example.com-2024, bob@example.org.backup", ["email:alice@example.com", "email:bob@example.org.backup"]],
  ['{"email":"a@b.co","name":"A"}', ["email:a@b.co"]],
  ["<alice@example.com>, 'bob@example.org'", ["email:alice@example.com", "email:bob@example.org"]],
  ["mailto:alice@example.com?subject=hi", ["email:alice@example.com"]],
  ["josé@exämple.de", ["email:josé@exämple.de"]],
  ["a@xn--p1ai.xn--p1ai", ["email:a@xn--p1ai.xn--p1ai"]],
  // Not addresses: no dot, a one-letter or numeric top level, nothing before the @, handles.
  ["alice@localhost", []],
  ["alice@example.c", []],
  ["alice@192.168.0.1", []],
  ["@alice", []],
  ["user@-example.com", []],
  ["user@example..com", []],
  ["see you @ 10.30", []],
  ["a@b.c@d.ef", ["email:b.c@d.ef"]],
  ["x".repeat(65) + "@example.com", []],
]);

cases("card", [
  ["4242424242424242", ["card:4242424242424242"]],
  ["4242 4242 4242 4242", ["card:4242 4242 4242 4242"]],
  ["4242-4242-4242-4242", ["card:4242-4242-4242-4242"]],
  ["paid with 5555555555554444 yesterday", ["card:5555555555554444"]],
  ["amex 3782 822463 10005.", ["card:3782 822463 10005"]],
  ["13 digits: 4222222222222", ["card:4222222222222"]],
  ["19 digits: 6200000000000000000", ["card:6200000000000000000"]],
  ["2-series 2223003122003222, discover 6011111111111117", ["card:2223003122003222", "card:6011111111111117"]],
  ['{"card":"4111111111111111"}', ["card:4111111111111111"]],
  ["order 12 4242 4242 4242 4242", ["card:4242 4242 4242 4242"]],
  ["4242 4242 4242 4242 12 items", ["card:4242 4242 4242 4242"]],
  // Not cards: Luhn fails, too long, joined to letters or other numbers, not a card industry.
  ["4242424242424241", []],
  ["4242 4242 4242 4241", []],
  ["4242424242424242424242", []],
  ["x4242424242424242", []],
  ["4242424242424242x", []],
  ["1.4242424242424242", []],
  ["12-4242-4242-4242-4242", []],
  ["4242 4242-4242 4242", []],
  ["1000000000000008", []],
  ["1705312200002", []],
  ["42 42 42 42 42 42 42 42", []],
  ["4242 42424242 4242", []],
]);

cases("ssn", [
  ["123-45-6789", ["ssn:123-45-6789"]],
  ["123 45 6789", ["ssn:123 45 6789"]],
  ["SSN: 078-05-1120, born 1960", ["ssn:078-05-1120"]],
  ['{"ssn":"219-09-9999"}', ["ssn:219-09-9999"]],
  ["665-12-3456 and 667-12-3456", ["ssn:665-12-3456", "ssn:667-12-3456"]],
  // Never issued: area 000, 666, 900–999; group 00; serial 0000.
  ["000-12-3456", []],
  ["666-12-3456", []],
  ["900-12-3456", []],
  ["999-12-3456", []],
  ["123-00-4567", []],
  ["123-45-0000", []],
  // Not SSNs: a bare nine-digit run, mixed separators, inside a longer number.
  ["123456789", []],
  ["order 100000123", []],
  ["123-45 6789", []],
  ["1-123-45-6789", []],
  ["123-45-6789-1", []],
  ["A123-45-6789", []],
]);

cases("phone", [
  ["(415) 555-0132", ["phone:(415) 555-0132"]],
  ["(415)555-0132", ["phone:(415)555-0132"]],
  ["415-555-0132", ["phone:415-555-0132"]],
  ["415.555.0132", ["phone:415.555.0132"]],
  ["415 555 0132", ["phone:415 555 0132"]],
  ["1-415-555-0132", ["phone:1-415-555-0132"]],
  ["+1 415 555 0132", ["phone:+1 415 555 0132"]],
  ["+1 (415) 555-0132", ["phone:+1 (415) 555-0132"]],
  ["+14155550132", ["phone:+14155550132"]],
  ["+44 20 7946 0958", ["phone:+44 20 7946 0958"]],
  ["+44 (0) 20 7946 0958", ["phone:+44 (0) 20 7946 0958"]],
  ["+33 6 12 34 56 78", ["phone:+33 6 12 34 56 78"]],
  ["+49.30.901820", ["phone:+49.30.901820"]],
  ['{"phone":"+1 415 555 0132","alt":"(212) 555-0199"}', ["phone:+1 415 555 0132", "phone:(212) 555-0199"]],
  ["call 415-555-0132 or 415-555-0199.", ["phone:415-555-0132", "phone:415-555-0199"]],
  // Not phones: bare digits, too few or too many digits, a + inside a token, invalid codes.
  ["4155550132", []],
  ["14155550132", []],
  ["+1234567", []],
  ["+1234567890123456", []],
  ["+0 1234 5678 90", []],
  ["a+14155550132", []],
  ["2024-01-15T10:30:00+05:30", []],
  ["123-456-7890", []],
  ["415-155-0132", []],
  ["415-555-01324", []],
  ["v415.555.0132", []],
  ["10.415.555.0132", []],
]);

cases("iban", [
  ["GB82 WEST 1234 5698 7654 32", ["iban:GB82 WEST 1234 5698 7654 32"]],
  ["GB82WEST12345698765432", ["iban:GB82WEST12345698765432"]],
  ["gb82 west 1234 5698 7654 32", ["iban:gb82 west 1234 5698 7654 32"]],
  ["pay to DE89 3704 0044 0532 0130 00 today", ["iban:DE89 3704 0044 0532 0130 00"]],
  ["FR14 2004 1010 0505 0001 3M02 606", ["iban:FR14 2004 1010 0505 0001 3M02 606"]],
  ['{"iban":"NL91ABNA0417164300"}', ["iban:NL91ABNA0417164300"]],
  ["NO9386011117947 and CH9300762011623852957", ["iban:NO9386011117947", "iban:CH9300762011623852957"]],
  ["DE89 3704 0044 0532 0130 00 paid", ["iban:DE89 3704 0044 0532 0130 00"]],
  // Not IBANs: a wrong check digit, joined to a word, too short, a product code.
  ["GB83 WEST 1234 5698 7654 32", []],
  ["GB82WEST12345698765433", []],
  ["XGB82WEST12345698765432", []],
  ["GB82WEST1234", []],
  ["SKU AB12CDEFGHIJKLMN", []],
]);

cases("look-alikes that are not PII", [
  ["100000123", []],
  ["order #100000123 shipped", []],
  ["550e8400-e29b-41d4-a716-446655440000", []],
  ["12345678-1234-1234-1234-123456789012", []],
  ["2024-01-15 10:30:00", []],
  ["2024-01-15 10:30:00.123456+00", []],
  ["2024-01-15T10:30:00Z", []],
  ["1234.56", []],
  ["total 1234567.89 USD", []],
  ["192.168.100.200", []],
  ["10.0.0.1:5432", []],
  ["v1.2.3", []],
  ["16.4.6-canary.12", []],
  ["123 Main St, Springfield, IL 62704", []],
  ["1705312200000", []],
  ["9223372036854775807", []],
  ["scores 5 3 8 2 9 1 4 6 7 3 2 8 1 9", []],
  ['{"id":100000123,"qty":2,"price":12.5,"at":"2024-01-15T10:30:00Z"}', []],
  ["", []],
]);

describe("findings together", () => {
  test("several detectors in one text, in order", () => {
    const text = "Alice (alice@example.com, 415-555-0132) paid 4242 4242 4242 4242 from GB82 WEST 1234 5698 7654 32; SSN 123-45-6789";
    assert.deepEqual(found(text), [
      "email:alice@example.com",
      "phone:415-555-0132",
      "card:4242 4242 4242 4242",
      "iban:GB82 WEST 1234 5698 7654 32",
      "ssn:123-45-6789",
    ]);
  });

  test("offsets are UTF-16 offsets into the text", () => {
    const text = "😀 é alice@example.com";
    const [f] = findPii(text, ["email"]);
    assert.equal(text.slice(f.start, f.end), "alice@example.com");
    assert.equal(f.start, 5);
  });

  test("only the detectors asked for run", () => {
    const text = "alice@example.com 4242424242424242 123-45-6789";
    assert.deepEqual(found(text, ["ssn"]), ["ssn:123-45-6789"]);
    assert.deepEqual(found(text, new Set<DetectorName>(["card", "email"])), ["email:alice@example.com", "card:4242424242424242"]);
    assert.deepEqual(found(text, []), []);
  });

  test("digits that are both a card and a phone are found once", () => {
    // A + and 15 digits is an E.164 phone, and these 15 are a Luhn-valid Amex: the earlier,
    // longer finding (the phone, with its +) is kept; both would keep only the last four digits.
    assert.deepEqual(found("+378282246310005"), ["phone:+378282246310005"]);
    assert.deepEqual(found("378282246310005"), ["card:378282246310005"]);
    // Sixteen digits after a + are too many for a phone: a card.
    assert.deepEqual(found("+4242424242424242"), ["card:4242424242424242"]);
  });

  test("an email wins over the digits inside it", () => {
    assert.deepEqual(found("4242424242424242@example.com"), ["email:4242424242424242@example.com"]);
  });

  test("findings deep inside a long value are found", () => {
    const filler = JSON.stringify(Array.from({ length: 2000 }, (_, i) => ({ id: 100000000 + i, at: "2024-01-15 10:30:00", v: `v${i}.2.3` })));
    const text = `${filler.slice(0, 50_000)} {"email":"deep@example.com","card":"4242-4242-4242-4242"} ${filler.slice(50_000)}`;
    assert.deepEqual(found(text), ["email:deep@example.com", "card:4242-4242-4242-4242"]);
  });

  test("pathological inputs stay linear", () => {
    const inputs = ["1 ".repeat(100_000), "1-".repeat(100_000), "a@".repeat(100_000), "+1(".repeat(100_000), "AB12 ".repeat(100_000), `${"a".repeat(100_000)}@${"b.".repeat(100_000)}`];
    for (const text of inputs) {
      const began = performance.now();
      findPii(text, ALL);
      // Not a budget (bench/ measures those): quadratic scanning of 100,000 repeats takes minutes,
      // linear well under a second, so a generous bound tells them apart even on a loaded machine.
      assert.ok(performance.now() - began < 20_000, `${JSON.stringify(text.slice(0, 12))}… took too long`);
    }
  });
});

describe("detectWhole: the shape of a whole value, checksums aside", () => {
  const table: Array<[string, DetectorName | undefined]> = [
    ["alice@example.com", "email"],
    ["  alice@example.com ", "email"],
    ["4242424242424241", "card"], // a seeded test card that fails Luhn still has a card's shape
    ["4242 4242 4242 4241", "card"],
    ["000-12-3456", "ssn"],
    ["123 45 6789", "ssn"],
    ["(415) 555-0132", "phone"],
    ["123-456-7890", "phone"],
    ["+1 415 555 0132", "phone"],
    ["+44 20 7946 0958", "phone"],
    ["GB83 WEST 1234 5698 7654 32", "iban"],
    ["GB82WEST12345698765432", "iban"],
    ["ZGFuQGV4YW1wbGUuY29t", undefined],
    ["Alice Smith", undefined],
    ["123456789", undefined],
    ["4155550132", undefined],
    ['{"email":"a@b.co"}', undefined],
    ["alice at example.com", undefined],
    ["DE89 3704 0044 0532 0130 00 paid", undefined],
    ["", undefined],
  ];
  for (const [text, shape] of table) test(`${JSON.stringify(text)} → ${shape ?? "none"}`, () => assert.equal(detectWhole(text), shape));
});
