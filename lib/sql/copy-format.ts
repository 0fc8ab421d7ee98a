import { stringOf, unwrap } from "./tree";
import type { CopyFormat } from "./types";

/** COPY's row format, from its options (`FORMAT csv`, `DELIMITER`, `NULL`, `QUOTE`, `ESCAPE`, `HEADER`). */
export function copyFormat(options: unknown): CopyFormat {
  const opts = new Map<string, unknown>();
  for (const o of (options as unknown[] | undefined) ?? []) {
    const d = unwrap(o)[1];
    opts.set(String(d.defname), d.arg);
  }
  const text = (key: string): string | undefined => {
    const arg = opts.get(key);
    return arg === undefined ? undefined : stringOf(arg);
  };
  const format = (text("format") ?? "text").toLowerCase() as CopyFormat["format"];
  const csv = format === "csv";
  const quote = text("quote") ?? '"';
  const header = opts.has("header") && !["false", "off", "0"].includes((text("header") || boolOf(opts.get("header"))).toLowerCase());
  return { format, delimiter: text("delimiter") ?? (csv ? "," : "\t"), null: text("null") ?? (csv ? "" : "\\N"), quote, escape: text("escape") ?? quote, header };
}

function boolOf(arg: unknown): string {
  const b = (arg as { Boolean?: { boolval?: boolean } } | undefined)?.Boolean;
  return b === undefined ? "true" : String(Boolean(b.boolval));
}
