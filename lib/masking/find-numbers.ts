/** Numbers in text: payment cards (Luhn), US SSNs (SSA rules), phone numbers and IBANs (mod 97). */
import type { Finding } from "./detectors";
import { SPACE, DASH, DOT, PLUS, isDigit, isLetter, isAlnum, code, joinedBefore, joinedAfter } from "./text-scan";

/** Digits a window of numbers needs before a detector looks at it. */
export const MIN_DIGITS = { card: 13, ssn: 9, phoneAfterPlus: 8, phone: 10 } as const;
export const MIN_IBAN_LENGTH = 15;

/** Which detectors a finder runs. */
export interface Enabled {
  card: boolean;
  ssn: boolean;
  phone: boolean;
  iban: boolean;
}

/**
 * One pass over the digits. Each run of digits is checked as an IBAN's check digits (two letters
 * before it), then grown into a window: runs joined by one or two of ` .-()`, which holds any
 * card, SSN or phone number written the usual ways. Only windows with enough digits for some
 * detector are looked at further, so dates, amounts, versions and short ids cost one pass.
 */
export function findInNumbers(text: string, on: Enabled, out: Finding[]): void {
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
