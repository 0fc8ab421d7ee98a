import { createHash } from "node:crypto";

/**
 * How much of a statement's text is stored and shown. Enough to read any statement a person
 * writes; a generated one of megabytes is kept as this prefix, its length and its hash.
 */
export const STATEMENT_PREFIX_BYTES = 16 * 1024;

/** A statement's text as stored: whole, or cut to a prefix with the length and hash of the whole. */
export interface BoundedText {
  text: string;
  /** The whole text's length in UTF-8 bytes. */
  bytes: number;
  /** SHA-256 of the whole text (UTF-8), hex; set only when `text` is a prefix (otherwise hash `text`). */
  sha256: string | null;
}

/** The text whole when it fits, else its first STATEMENT_PREFIX_BYTES (on a character boundary). */
export function boundText(text: string, maxBytes = STATEMENT_PREFIX_BYTES): BoundedText {
  // Three bytes per UTF-16 unit at most: short texts skip measuring.
  if (text.length * 3 <= maxBytes) return { text, bytes: Buffer.byteLength(text), sha256: null };
  const bytes = Buffer.byteLength(text);
  if (bytes <= maxBytes) return { text, bytes, sha256: null };
  const head = Buffer.from(text.slice(0, maxBytes));
  let end = Math.min(maxBytes, head.length);
  // Back off to the start of a character: never half of one in the prefix.
  while (end > 0 && end < head.length && (head[end] & 0xc0) === 0x80) end--;
  return { text: head.subarray(0, end).toString(), bytes, sha256: createHash("sha256").update(text).digest("hex") };
}
