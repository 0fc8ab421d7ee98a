/** Email addresses in text: a local part, `@`, a domain of labels with a top-level domain. */
import type { Finding } from "./detectors";
import { DASH, DOT, PLUS, AT, isLetter, isAlnum, code } from "./text-scan";

const MAX_EMAIL_LOCAL = 64;
const MAX_EMAIL_DOMAIN = 253;

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

export function findEmails(text: string, out: Finding[]): void {
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

