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
  let firstSemicolon = -1;
  const key = text.replace(TOKEN, (token: string, offset: number) => {
    switch (token[0]) {
      case "'":
      case '"':
        return token; // strings and quoted identifiers are kept whole
      case "-":
        return " "; // a comment
      case ";":
        if (firstSemicolon < 0) firstSemicolon = offset;
        return "";
      default:
        return "0"; // a numeric constant
    }
  });
  // One statement only: after its semicolon there may be nothing but white space.
  if (firstSemicolon >= 0 && text.slice(firstSemicolon + 1).trim() !== "") return undefined;
  // An unpaired quote (unterminated text) is left for the parser to reject, uncached.
  if (/['"]/.test(key.replace(QUOTED, ""))) return undefined;
  return key.trimEnd();
}

const OUT_OF_SCOPE = /[\\$]|\/\*|u&|explain|execute/i;

/**
 * Left to right, the first of: a '…' string ('' inside), a "…" identifier ("" inside), a -- comment,
 * a number that does not continue an identifier (digits with attached letters, dots, exponent),
 * a semicolon. Quoted text is matched as runs (`[^']*(?:''[^']*)*`), not one alternation per
 * character, which overflows the regular-expression stack on a literal of some megabytes.
 */
const TOKEN = /'[^']*(?:''[^']*)*'|"[^"]*(?:""[^"]*)*"|--[^\n]*|(?<![A-Za-z0-9_\u0080-\uffff])\d[A-Za-z0-9_.]*|;/g;

/** Strings and identifiers; once they are taken out, a quote left over was never closed. */
const QUOTED = /'[^']*(?:''[^']*)*'|"[^"]*(?:""[^"]*)*"/g;
