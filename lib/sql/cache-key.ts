/**
 * A cache key under which statements that differ only in their numeric constants share one
 * classification (`... where aid = 12345` and `... where aid = 678`), so that literal-laden SQL
 * does not miss the cache every time.
 *
 * Sound because no classification depends on a number's value, with one exception kept out
 * (EXPLAIN's `(ANALYZE 0)`), and because the scan is only attempted on text whose lexical shape
 * is plain: code, '…' strings with '' escapes, "…" identifiers, -- comments. Anything else —
 * backslashes (E'' strings), dollar quoting, block comments, U& escapes, several statements,
 * EXECUTE — gets no key and is cached by its exact text.
 */
export function literalFreeKey(text: string): string | undefined {
  if (OUT_OF_SCOPE.test(text)) return undefined;
  let out = "";
  let i = 0;
  let statementEnded = false;
  while (i < text.length) {
    const c = text[i];
    if (statementEnded && !/\s/.test(c)) return undefined; // a second statement
    if (c === "'" || c === '"') {
      const end = closingQuote(text, i);
      if (end < 0) return undefined;
      out += text.slice(i, end + 1);
      i = end + 1;
    } else if (c === "-" && text[i + 1] === "-") {
      const end = text.indexOf("\n", i);
      i = end < 0 ? text.length : end + 1;
      out += " ";
    } else if (c === ";") {
      statementEnded = true;
      i++;
    } else if (isDigit(c) && !isIdentifierChar(text[i - 1])) {
      // A numeric constant: digits, with a fraction, exponent, or radix/underscore letters attached.
      let j = i;
      while (j < text.length && (isIdentifierChar(text[j]) || text[j] === "." || ((text[j] === "+" || text[j] === "-") && /[eE]/.test(text[j - 1])))) j++;
      out += "0";
      i = j;
    } else {
      out += c;
      i++;
    }
  }
  return out.trimEnd();
}

const OUT_OF_SCOPE = /[\\$]|\/\*|u&|explain|execute/i;

/** The index of the quote that closes the one at `start` (doubled quotes are escapes), or -1. */
function closingQuote(text: string, start: number): number {
  const quote = text[start];
  for (let i = start + 1; i < text.length; i++) {
    if (text[i] !== quote) continue;
    if (text[i + 1] === quote) i++;
    else return i;
  }
  return -1;
}

function isDigit(c: string): boolean {
  return c >= "0" && c <= "9";
}

function isIdentifierChar(c: string | undefined): boolean {
  return c !== undefined && /[A-Za-z0-9_\u0080-\uffff]/.test(c);
}
