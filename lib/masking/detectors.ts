/**
 * Validated PII inside arbitrary text: emails, payment cards (Luhn), US SSNs (SSA rules), phone
 * numbers and IBANs (mod 97), so plain ids, order numbers, dates and amounts stay readable.
 *
 * This runs on every text value of every row the proxy streams, so it costs about one pass over
 * the text: emails are looked for only around an `@`; numbers in one loop over the digits, where a
 * window of digits too short for any detector is passed over at once (a date, an amount, an id).
 * The one regex (phones) runs only on a window that could hold a phone, and has bounded quantifiers.
 * A candidate "joined" to its neighbours — a letter or digit next to it, or `-`/`.` then a digit —
 * is part of a longer token (an id, a version, a date) and is not PII.
 *
 * What a value needs before any detector can find something, for a caller's own prefilter on
 * bytes: email an `@`; card 13 digits; SSN 9; phone 8 after a `+`, else 10; IBAN 2 digits and 15
 * characters.
 */

import { findEmails } from "./find-emails";
import { findInNumbers, MIN_DIGITS, MIN_IBAN_LENGTH, type Enabled } from "./find-numbers";
import { PLUS, isDigit, isLetter, countDigits } from "./text-scan";

export type DetectorName = "email" | "card" | "ssn" | "phone" | "iban";

/** A finding's span in the text, as UTF-16 offsets: text.slice(start, end). */
export interface Finding {
  detector: DetectorName;
  start: number;
  end: number;
}

/** Ties on the same span go to the earlier name here: a Luhn-valid number is a card before a phone. */
const PRIORITY: readonly DetectorName[] = ["email", "iban", "card", "ssn", "phone"];


/**
 * All findings of `detectors` in `text`, sorted and non-overlapping (the earlier, then the
 * longer, then the higher-priority finding wins). For a hot loop, build a finder once instead.
 */
export function findPii(text: string, detectors: ReadonlySet<DetectorName> | readonly DetectorName[]): Finding[] {
  return createFinder(detectors)(text);
}


/** findPii with the detector list resolved once. Returns a shared empty array when nothing is found. */
export function createFinder(detectors: ReadonlySet<DetectorName> | readonly DetectorName[]): (text: string) => Finding[] {
  const names = new Set<DetectorName>(detectors);
  const email = names.has("email");
  const on: Enabled = { card: names.has("card"), ssn: names.has("ssn"), phone: names.has("phone"), iban: names.has("iban") };
  const numbers = on.card || on.ssn || on.phone || on.iban;
  return (text) => {
    if (email && text.indexOf("@") !== -1) findEmails(text, found);
    if (numbers && text.length >= 8) findInNumbers(text, on, found);
    if (found.length === 0) return NONE;
    const result = resolveOverlaps(found.slice());
    found.length = 0;
    return result;
  };
}

/** Scratch space for one call, emptied only when used: most values find nothing and allocate nothing. */
const found: Finding[] = [];
const NONE: Finding[] = [];

/** The detector whose shape (no checksum, no SSA rule) is the whole trimmed text, if any. */
export function detectWhole(text: string): DetectorName | undefined {
  const t = text.trim();
  if (t.length < 5 || t.length > 320) return undefined;
  if (t.indexOf("@") !== -1) return EMAIL_SHAPE.test(t) ? "email" : undefined;
  const first = t.charCodeAt(0);
  if (isLetter(first)) return IBAN_SHAPE.test(t) && t.replaceAll(" ", "").length >= MIN_IBAN_LENGTH ? "iban" : undefined;
  if (first === PLUS && PHONE_SHAPE.test(t)) {
    const digits = countDigits(t, 16);
    if (digits >= MIN_DIGITS.phoneAfterPlus && digits <= 15) return "phone";
  }
  if (isDigit(first)) {
    if (CARD_SHAPE.test(t)) return "card";
    if (SSN_SHAPE.test(t)) return "ssn";
  }
  return NANP_SHAPE.test(t) ? "phone" : undefined;
}

// Shapes, not validation, but no delimiters of the text around an address (quotes, brackets…).
// The domain is kept by partial masking, so it must be a domain and nothing more (no "/ssn" tail).
const EMAIL_SHAPE = /^[^\s@"'`<>()[\]{},;:\\]{1,64}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.){1,8}[A-Za-z]{2,63}$/;
const IBAN_SHAPE = /^[A-Za-z]{2}\d\d(?:[A-Za-z0-9]{11,30}|(?: [A-Za-z0-9]{4}){2,7}(?: [A-Za-z0-9]{1,4})?)$/;
const CARD_SHAPE = /^\d(?:[ -]?\d){12,18}$/;
const SSN_SHAPE = /^\d{3}([- ])\d{2}\1\d{4}$/;
const PHONE_SHAPE = /^\+\d[\d .\-()]{6,30}\d$/;
const NANP_SHAPE = /^(?:\+?1[ .-]?)?(?:\(\d{3}\) ?|\d{3}[ .-])\d{3}[ .-]\d{4}$/;

function resolveOverlaps(found: Finding[]): Finding[] {
  if (inOrder(found)) return found;
  found.sort((a, b) => a.start - b.start || b.end - a.end || PRIORITY.indexOf(a.detector) - PRIORITY.indexOf(b.detector));
  const kept: Finding[] = [];
  let end = -1;
  for (const f of found) {
    if (f.start >= end) {
      kept.push(f);
      end = f.end;
    }
  }
  return kept;
}

/** Already sorted and apart: the usual case, one detector's findings or several far apart. */
function inOrder(found: Finding[]): boolean {
  for (let k = 1; k < found.length; k++) if (found[k].start < found[k - 1].end) return false;
  return true;
}

