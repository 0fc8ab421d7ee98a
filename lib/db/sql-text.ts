/**
 * Raw SQL is written once, with `?` for each parameter as SQLite takes it; PostgreSQL numbers
 * them. Only `?` outside quotes and comments is a parameter. Each text is translated once.
 */
const translated = new Map<string, string>();

export function numberedParams(text: string): string {
  let cached = translated.get(text);
  if (cached === undefined) {
    cached = translate(text);
    translated.set(text, cached);
  }
  return cached;
}

function translate(text: string): string {
  let out = "";
  let n = 0;
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === quote) quote = undefined;
      out += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      out += c;
    } else if (c === "?") {
      out += `$${++n}`;
    } else {
      out += c;
    }
  }
  return out;
}
