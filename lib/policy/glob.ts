/**
 * Shell-style globs for names in policy rules: `*` any run of characters, `?` one character.
 * A pattern without a dot matches a qualified name's last part too, so `customers` and
 * `*.ssn` read the way people write them.
 */
export function globMatches(pattern: string, name: string): boolean {
  const target = pattern.includes(".") ? name : name.slice(name.lastIndexOf(".") + 1);
  return compile(pattern).test(target);
}

const compiled = new Map<string, RegExp>();
function compile(pattern: string): RegExp {
  let re = compiled.get(pattern);
  if (!re) {
    const source = pattern
      .toLowerCase()
      .split("")
      .map((c) => (c === "*" ? ".*" : c === "?" ? "." : c.replace(/[.+^${}()|[\]\\]/g, "\\$&")))
      .join("");
    re = new RegExp(`^${source}$`, "i");
    compiled.set(pattern, re);
  }
  return re;
}

export function anyGlobMatches(patterns: readonly string[], name: string): boolean {
  return patterns.some((p) => globMatches(p, name));
}

/**
 * For names that are not qualified (agent ids): the pattern must match the whole name, a dot being
 * an ordinary character. Read as a table name, `etl-bot` would match any id ending `.etl-bot`,
 * such as one another issuer's agent chose.
 */
export function anyGlobMatchesWhole(patterns: readonly string[], name: string): boolean {
  return patterns.some((p) => compile(p).test(name));
}
