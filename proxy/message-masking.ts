import type { Masker } from "../lib/masking/strategies";
import { readFields } from "./protocol/reader";
import { writeFieldsMessage } from "./protocol/writer";

/** Fields of ErrorResponse and NoticeResponse that may quote data: message, detail, hint, context, internal query. */
const TEXT_FIELDS = ["M", "D", "H", "W", "q"];

/**
 * Errors and notices can carry values of the rows a statement touched: `invalid input syntax for
 * type integer: "alice@example.com"`, `Key (email)=(alice@example.com) already exists`. Under
 * masking, a data exception's (class 22) and an integrity violation's (class 23) quoted values are
 * masked whole, and every text field is searched by the detectors. Returns the message to send.
 */
export function maskServerMessage(raw: Buffer, masker: Masker): Buffer {
  const fields = readFields(raw.subarray(5));
  const quotesData = /^2[23]/.test(fields.get("C") ?? "");
  let changed = false;
  for (const tag of TEXT_FIELDS) {
    const text = fields.get(tag);
    if (text === undefined) continue;
    let masked = quotesData ? maskQuoted(text, masker) : text;
    masked = masker.maskFindings(masked) ?? "[masked]";
    if (masked !== text) {
      fields.set(tag, masked);
      changed = true;
    }
  }
  return changed ? writeFieldsMessage(raw[0], fields) : raw;
}

/** `"value"` and `=(value)` are what PostgreSQL's data and constraint errors put values in. */
function maskQuoted(text: string, masker: Masker): string {
  const whole = (value: string) => masker.maskValue(value) ?? "NULL";
  return text.replace(/"((?:[^"]|"")*)"/g, (_, value: string) => `"${whole(value)}"`).replace(/=\((.*)\)/g, (_, value: string) => `=(${whole(value)})`);
}
