/** Character classes and token boundaries shared by the detectors (UTF-16 codes). */

export const SPACE = 32;
export const DASH = 45;
export const DOT = 46;
export const PLUS = 43;
export const AT = 64;

export function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
export function isLetter(c: number): boolean {
  const l = c | 32;
  return l >= 97 && l <= 122;
}
export function isAlnum(c: number): boolean {
  return isDigit(c) || isLetter(c);
}

/**
 * The UTF-16 code at `i`, or -1 outside the text. Boundary checks look one or two characters
 * past either end, and charCodeAt out of range makes V8 leave its fast path for the whole loop.
 */
export function code(text: string, i: number): number {
  return i >= 0 && i < text.length ? text.charCodeAt(i) : -1;
}

/** Whether the span starting at `start` continues a longer token to its left. */
export function joinedBefore(text: string, start: number): boolean {
  const c = code(text, start - 1);
  return isAlnum(c) || ((c === DASH || c === DOT) && isDigit(code(text, start - 2)));
}
/** Whether the span ending at `end` continues into a longer token to its right. */
export function joinedAfter(text: string, end: number): boolean {
  const c = code(text, end);
  return isAlnum(c) || ((c === DASH || c === DOT) && isDigit(code(text, end + 1)));
}

/** Digits in `text`, counting stops at `enough`. */
export function countDigits(text: string, enough: number): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = code(text, i);
    if (c >= 48 && c <= 57 && ++n >= enough) return n;
  }
  return n;
}

