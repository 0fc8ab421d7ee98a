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

export type DetectorName = "email" | "card" | "ssn" | "phone" | "iban";

/** A finding's span in the text, as UTF-16 offsets: text.slice(start, end). */
export interface Finding {
  detector: DetectorName;
  start: number;
  end: number;
}

/** Ties on the same span go to the earlier name here: a Luhn-valid number is a card before a phone. */
const PRIORITY: readonly DetectorName[] = ["email", "iban", "card", "ssn", "phone"];

/** Digits a window of numbers needs before a detector looks at it. */
const MIN_DIGITS = { card: 13, ssn: 9, phoneAfterPlus: 8, phone: 10 } as const;
const MIN_IBAN_LENGTH = 15;
const MAX_EMAIL_LOCAL = 64;
const MAX_EMAIL_DOMAIN = 253;

/**
 * All findings of `detectors` in `text`, sorted and non-overlapping (the earlier, then the
 * longer, then the higher-priority finding wins). For a hot loop, build a finder once instead.
 */
export function findPii(text: string, detectors: ReadonlySet<DetectorName> | readonly DetectorName[]): Finding[] {
  return createFinder(detectors)(text);
}

/** Which detectors a finder runs. */
interface Enabled {
  card: boolean;
  ssn: boolean;
  phone: boolean;
  iban: boolean;
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

// ---- character classes and boundaries ------------------------------------------------------

const SPACE = 32;
const DASH = 45;
const DOT = 46;
const PLUS = 43;
const AT = 64;

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
function isLetter(c: number): boolean {
  const l = c | 32;
  return l >= 97 && l <= 122;
}
function isAlnum(c: number): boolean {
  return isDigit(c) || isLetter(c);
}

/**
 * The UTF-16 code at `i`, or -1 outside the text. Boundary checks look one or two characters
 * past either end, and charCodeAt out of range makes V8 leave its fast path for the whole loop.
 */
function code(text: string, i: number): number {
  return i >= 0 && i < text.length ? text.charCodeAt(i) : -1;
}

/** Whether the span starting at `start` continues a longer token to its left. */
function joinedBefore(text: string, start: number): boolean {
  const c = code(text, start - 1);
  return isAlnum(c) || ((c === DASH || c === DOT) && isDigit(code(text, start - 2)));
}
/** Whether the span ending at `end` continues into a longer token to its right. */
function joinedAfter(text: string, end: number): boolean {
  const c = code(text, end);
  return isAlnum(c) || ((c === DASH || c === DOT) && isDigit(code(text, end + 1)));
}

/** Digits in `text`, counting stops at `enough`. */
function countDigits(text: string, enough: number): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = code(text, i);
    if (c >= 48 && c <= 57 && ++n >= enough) return n;
  }
  return n;
}

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

// ---- email ---------------------------------------------------------------------------------

const NON_ASCII_WORD = /[\p{L}\p{N}\p{M}]/u;

function isLocalChar(text: string, i: number): boolean {
  // RFC 5322 atext minus the characters that usually delimit an address in text (' ` / = ? ! # …).
  const c = code(text, i);
  if (isAlnum(c) || c === DOT || c === DASH || c === PLUS || c === 95 /* _ */ || c === 37 /* % */) return true;
  return c > 127 && NON_ASCII_WORD.test(text[i]);
}
function isDomainChar(text: string, i: number): boolean {
  const c = code(text, i);
  if (isAlnum(c) || c === DOT || c === DASH) return true;
  return c > 127 && NON_ASCII_WORD.test(text[i]);
}

function findEmails(text: string, out: Finding[]): void {
  for (let at = text.indexOf("@"); at !== -1; at = text.indexOf("@", at + 1)) {
    let start = at;
    while (start > 0 && at - start <= MAX_EMAIL_LOCAL && isLocalChar(text, start - 1)) start--;
    if (at - start > MAX_EMAIL_LOCAL) continue; // a longer run is some token, not a local part
    while (code(text, start) === DOT) start++;
    if (start === at) continue;

    let end = at + 1;
    while (end < text.length && end - at - 1 <= MAX_EMAIL_DOMAIN && isDomainChar(text, end)) end++;
    if (end - at - 1 > MAX_EMAIL_DOMAIN) continue;
    end = domainEnd(text, at + 1, end);
    if (end === -1 || code(text, end) === AT) continue; // a@b.c@d: not an address
    out.push({ detector: "email", start, end });
  }
}

/**
 * The end of the longest valid domain in [start, end): a sentence's full stop is not part of it,
 * nor what follows a dash or dot after it ("alice@example.com-2024"); -1 when there is none.
 */
function domainEnd(text: string, start: number, end: number): number {
  for (;;) {
    while (end > start && (code(text, end - 1) === DOT || code(text, end - 1) === DASH)) end--;
    if (end === start) return -1;
    if (validDomain(text, start, end)) return end;
    while (end > start && code(text, end - 1) !== DOT && code(text, end - 1) !== DASH) end--;
  }
}

const NON_ASCII_TLD = /^[\p{L}\p{M}]{2,63}$/u;

/** Labels of 1–63 characters, no hyphen at either end, at least two; a top level of 2+ letters (or xn--). */
function validDomain(text: string, start: number, end: number): boolean {
  let labels = 0;
  let label = start;
  let asciiLetters = true;
  for (let i = start; i <= end; i++) {
    const c = i < end ? code(text, i) : DOT;
    if (c !== DOT) {
      if (!isLetter(c)) asciiLetters = false;
      continue;
    }
    const size = i - label;
    if (size === 0 || size > 63 || code(text, label) === DASH || code(text, i - 1) === DASH) return false;
    labels++;
    if (i === end && labels >= 2) {
      if (asciiLetters) return size >= 2;
      return text.startsWith("xn--", label) || NON_ASCII_TLD.test(text.slice(label, end));
    }
    label = i + 1;
    asciiLetters = true;
  }
  return false;
}

// ---- numbers: cards, SSNs, phones, IBANs ---------------------------------------------------

/**
 * One pass over the digits. Each run of digits is checked as an IBAN's check digits (two letters
 * before it), then grown into a window: runs joined by one or two of ` .-()`, which holds any
 * card, SSN or phone number written the usual ways. Only windows with enough digits for some
 * detector are looked at further, so dates, amounts, versions and short ids cost one pass.
 */
function findInNumbers(text: string, on: Enabled, out: Finding[]): void {
  const n = text.length;
  const iban = on.iban && n >= MIN_IBAN_LENGTH;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c > 57 || c < 48) {
      i++;
      continue;
    }
    if (iban && isLetter(code(text, i - 1)) && isLetter(code(text, i - 2)) && isDigit(code(text, i + 1)) && !joinedBefore(text, i - 2)) {
      const end = ibanEnd(text, i - 2);
      if (end !== -1) {
        out.push({ detector: "iban", start: i - 2, end });
        i = end;
        continue;
      }
    }
    let count = 0;
    let digits = 0;
    let j = i;
    for (;;) {
      const s = j;
      while (isDigit(code(text, j))) j++;
      groups[count++] = s;
      groups[count++] = j;
      digits += j - s;
      let k = j;
      while (k - j < 2 && isSeparator(code(text, k))) k++;
      if (k === j || !isDigit(code(text, k))) break;
      j = k;
    }
    if (digits >= MIN_DIGITS.phoneAfterPlus) {
      if (on.card && digits >= MIN_DIGITS.card) findCards(text, groups, count / 2, out);
      if (on.ssn && digits >= MIN_DIGITS.ssn) findSsns(text, groups, count / 2, out);
      if (on.phone) findPhones(text, groups, count / 2, digits, out);
    }
    i = j;
  }
}

/**
 * Digit groups of the current window as [start0, end0, start1, end1, …], written over from the
 * start for each window (a count, not `length = 0`, which is a slow call in V8).
 */
const groups: number[] = [];

function isSeparator(c: number): boolean {
  return c === SPACE || c === DASH || c === DOT || c === 40 /* ( */ || c === 41 /* ) */;
}

/** The one separator character between groups k and k+1, or -1 when it is none or several. */
function separatorAfter(text: string, g: number[], k: number): number {
  return g[2 * k + 2] - g[2 * k + 1] === 1 ? code(text, g[2 * k + 1]) : -1;
}

// ---- payment cards -------------------------------------------------------------------------

/** A card written in groups: 4-4-4-4, 4-6-5, 4-3-3-3, 4-4-4-4-3… never groups of one or two. */
const MIN_CARD_GROUP = 3;
const MAX_CARD_GROUP = 6;

/**
 * Cards among a window's groups: 13–19 digits, written solid or in groups of three to six split
 * by one kind of single separator (space or dash), not joined to the text around, Luhn-valid. The
 * longest run of groups is tried first, so "order 12 4242 4242 4242 4242" finds the card after 12.
 */
function findCards(text: string, g: number[], n: number, out: Finding[]): void {
  let i = 0;
  while (i < n) {
    const start = g[2 * i];
    let next = i + 1;
    if (!joinedBefore(text, start)) {
      let j = i;
      let digits = g[2 * i + 1] - start;
      const sep = i + 1 < n ? separatorAfter(text, g, i) : -1;
      if (sep === SPACE || sep === DASH) {
        while (j + 1 < n && separatorAfter(text, g, j) === sep && digits + g[2 * j + 3] - g[2 * j + 2] <= 19) {
          j++;
          digits += g[2 * j + 1] - g[2 * j];
        }
      }
      for (; j >= i && digits >= MIN_DIGITS.card; digits -= g[2 * j + 1] - g[2 * j], j--) {
        const end = g[2 * j + 1];
        if (digits <= 19 && !joinedAfter(text, end) && (j === i || groupsFit(g, i, j)) && isCardNumber(text, start, end)) {
          out.push({ detector: "card", start, end });
          next = j + 1;
          break;
        }
      }
    }
    i = next;
  }
}

function groupsFit(g: number[], i: number, j: number): boolean {
  for (let k = i; k <= j; k++) {
    const size = g[2 * k + 1] - g[2 * k];
    if (size < MIN_CARD_GROUP || size > MAX_CARD_GROUP) return false;
  }
  return true;
}

/** Luhn, and a payment-card industry digit first (2 Mastercard/Mir, 3 Amex/JCB/Diners, 4–6). */
function isCardNumber(text: string, start: number, end: number): boolean {
  const first = code(text, start) - 48;
  if (first < 2 || first > 6) return false;
  let sum = 0;
  let double = false;
  for (let i = end - 1; i >= start; i--) {
    const c = code(text, i);
    if (!isDigit(c)) continue;
    let d = c - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

// ---- US social security numbers ------------------------------------------------------------

/** ddd-dd-dddd or ddd dd dddd, never a bare run of nine digits (order numbers look like that). */
function findSsns(text: string, g: number[], n: number, out: Finding[]): void {
  for (let k = 0; k + 2 < n; k++) {
    const start = g[2 * k];
    const end = g[2 * k + 5];
    if (g[2 * k + 1] - start !== 3 || g[2 * k + 3] - g[2 * k + 2] !== 2 || end - g[2 * k + 4] !== 4) continue;
    const sep = separatorAfter(text, g, k);
    if ((sep !== DASH && sep !== SPACE) || separatorAfter(text, g, k + 1) !== sep) continue;
    if (joinedBefore(text, start) || joinedAfter(text, end) || !ssaValid(text, start)) continue;
    out.push({ detector: "ssn", start, end });
    k += 2;
  }
}

/** Never issued: area 000, 666 or 900–999; group 00; serial 0000. */
function ssaValid(text: string, start: number): boolean {
  const area = text.slice(start, start + 3);
  return area !== "000" && area !== "666" && area[0] !== "9" && text.slice(start + 4, start + 6) !== "00" && text.slice(start + 7, start + 11) !== "0000";
}

// ---- phone numbers -------------------------------------------------------------------------

/**
 * E.164: `+`, a country code not starting with 0, 8–15 digits in all, up to two separators
 * between digits. North American: optional 1, area and exchange codes starting 2–9, 3-3-4.
 */
const PHONE =
  /\+[1-9](?:[ .\-()]{0,2}\d){7,14}|(?:1[ .-]?)?(?:\([2-9]\d\d\) ?|[2-9]\d\d[ .-])[2-9]\d\d[ .-]\d{4}/g;

function findPhones(text: string, g: number[], n: number, digits: number, out: Finding[]): void {
  // The window starts at a digit; a phone may start just before it, with "+", "(" or "+(".
  let from = g[0];
  if (code(text, from - 1) === 40) from--;
  const plus = code(text, from - 1) === PLUS;
  if (plus) from--;
  if (digits < (plus ? MIN_DIGITS.phoneAfterPlus : MIN_DIGITS.phone)) return;
  if (!plus && !hasThreeThenFour(g, n)) return;
  const window = text.slice(from, g[2 * n - 1]);
  PHONE.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = PHONE.exec(window)) !== null) {
    const start = from + m.index;
    const end = start + m[0].length;
    if (joinedBefore(text, start) || code(text, start - 1) === PLUS || joinedAfter(text, end)) {
      PHONE.lastIndex = m.index + 1;
      continue;
    }
    out.push({ detector: "phone", start, end });
  }
}

/** Whether a group of 3 digits is followed by one of 4, as in every North American number. */
function hasThreeThenFour(g: number[], n: number): boolean {
  for (let k = 1; k < n; k++) if (g[2 * k + 1] - g[2 * k] === 4 && g[2 * k - 1] - g[2 * k - 2] === 3) return true;
  return false;
}

// ---- IBAN ----------------------------------------------------------------------------------

/** End of a valid IBAN at `start` (written solid, or in groups of four), or -1. */
function ibanEnd(text: string, start: number): number {
  let i = start + 4;
  if (isAlnum(code(text, i))) {
    while (isAlnum(code(text, i)) && i - start <= 34) i++;
    const length = i - start - 4;
    return length >= 11 && length <= 30 && !joinedAfter(text, i) && mod97(text, start, i) ? i : -1;
  }
  // Grouped: "GB82 WEST 1234 5698 7654 32". Try the longest run of groups first, so a word after
  // the last group ("… 7654 3200 paid") is dropped rather than taken for the account number.
  const ends: number[] = [];
  let length = 0;
  while (code(text, i) === SPACE && isAlnum(code(text, i + 1)) && length < 30) {
    let g = i + 1;
    while (g - i <= 4 && isAlnum(code(text, g))) g++;
    const size = g - i - 1;
    if (size > 4) break; // a longer word: not a group
    length += size;
    ends.push(g);
    i = g;
    if (size < 4) break; // a short group ends an IBAN
  }
  for (let k = ends.length - 1; k >= 0; k--) {
    const end = ends[k];
    const chars = ibanChars(text, start, end);
    if (chars >= 15 && chars <= 34 && !joinedAfter(text, end) && mod97(text, start, end)) return end;
  }
  return -1;
}

function ibanChars(text: string, start: number, end: number): number {
  let n = 0;
  for (let i = start; i < end; i++) if (code(text, i) !== SPACE) n++;
  return n;
}

/** ISO 13616: the first four characters moved to the end, letters as 10–35, mod 97 is 1. */
function mod97(text: string, start: number, end: number): boolean {
  let rest = 0;
  const add = (c: number): void => {
    if (isDigit(c)) rest = (rest * 10 + (c - 48)) % 97;
    else if (isLetter(c)) rest = (rest * 100 + ((c | 32) - 97 + 10)) % 97;
  };
  for (let i = start + 4; i < end; i++) add(code(text, i));
  for (let i = start; i < start + 4; i++) add(code(text, i));
  return rest === 1;
}
