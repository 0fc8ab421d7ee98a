/**
 * detectWhole's shapes read straight from the bytes of a value (no surrounding spaces), for the
 * shapes a masked column holds most: email, card, SSN, `+` phone, all ASCII. It answers as
 * detectWhole would, or null where it leaves the value to detectWhole (non-ASCII, IBANs, North
 * American phone formats, anything else): the string and its regexes then decide.
 */
import type { DetectorName } from "./detectors";

const AT = 64;
const PLUS = 43;
const DOT = 46;
const DASH = 45;
const SPACE = 32;

export function asciiShape(b: Buffer, start: number, end: number): DetectorName | undefined | null {
  const at = b.indexOf(AT, start);
  if (at !== -1 && at < end) {
    for (let i = start; i < at; i++) if (b[i] > 126) return null; // a non-ASCII local part: the string decides
    return emailShape(b, start, at, end) ? "email" : undefined;
  }
  const first = b[start];
  if (isDigit(first)) return cardShape(b, start, end) ? "card" : ssnShape(b, start, end) ? "ssn" : null;
  if (first === PLUS && phoneShape(b, start, end)) return "phone";
  return null;
}

/** Local part: 1–64 bytes, none of space " ' ` < > ( ) [ ] { } , ; : \ @; the domain: 1–8 labels and a TLD of letters. */
function emailShape(b: Buffer, start: number, at: number, end: number): boolean {
  if (at - start < 1 || at - start > 64 || end - at - 1 > 262) return false;
  for (let i = start; i < at; i++) if (NOT_IN_LOCAL[b[i]]) return false;
  let labels = 0;
  let labelStart = at + 1;
  for (let i = at + 1; i <= end; i++) {
    if (i < end && b[i] !== DOT) continue;
    const length = i - labelStart;
    if (i === end) return labels >= 1 && labels <= 8 && length >= 2 && length <= 63 && allLetters(b, labelStart, i);
    if (length < 1 || length > 63 || b[labelStart] === DASH || b[i - 1] === DASH) return false;
    for (let j = labelStart; j < i; j++) if (!isAlnum(b[j]) && b[j] !== DASH) return false;
    labels++;
    labelStart = i + 1;
  }
  return false;
}

/** `^\d(?:[ -]?\d){12,18}$` */
function cardShape(b: Buffer, start: number, end: number): boolean {
  if (!isDigit(b[end - 1])) return false;
  let digits = 0;
  for (let i = start; i < end; i++) {
    if (isDigit(b[i])) digits++;
    else if ((b[i] !== SPACE && b[i] !== DASH) || !isDigit(b[i + 1])) return false;
  }
  return digits >= 13 && digits <= 19;
}

/** `^\d{3}([- ])\d{2}\1\d{4}$` */
function ssnShape(b: Buffer, start: number, end: number): boolean {
  if (end - start !== 11) return false;
  const sep = b[start + 3];
  if ((sep !== DASH && sep !== SPACE) || b[start + 6] !== sep) return false;
  for (const i of SSN_DIGITS) if (!isDigit(b[start + i])) return false;
  return true;
}

/** `^\+\d[\d .\-()]{6,30}\d$` with 8–15 digits. */
function phoneShape(b: Buffer, start: number, end: number): boolean {
  const length = end - start;
  if (length < 9 || length > 33 || !isDigit(b[start + 1]) || !isDigit(b[end - 1])) return false;
  let digits = 0;
  for (let i = start + 1; i < end; i++) {
    if (isDigit(b[i])) digits++;
    else if (!PHONE_PUNCTUATION[b[i]]) return false;
  }
  return digits >= 8 && digits <= 15;
}

/** Lookup tables by byte: a Set lookup per byte costs more than the rest of the test. */
const NOT_IN_LOCAL = byteTable(` "'\`<>()[]{},;:\\@`);
const PHONE_PUNCTUATION = byteTable(" .-()");
const SSN_DIGITS = [0, 1, 2, 4, 5, 7, 8, 9, 10];

function byteTable(chars: string): Uint8Array {
  const table = new Uint8Array(256);
  for (const c of chars) table[c.charCodeAt(0)] = 1;
  return table;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function isAlnum(c: number): boolean {
  return isDigit(c) || ((c | 32) >= 97 && (c | 32) <= 122);
}

function allLetters(b: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if ((b[i] | 32) < 97 || (b[i] | 32) > 122) return false;
  return true;
}
