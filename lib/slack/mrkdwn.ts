import type { types } from "@slack/bolt";

/**
 * Slack's mrkdwn, safe for text Airlock does not control (SQL, table and agent names, reasons).
 * `<`, `>` and `&` are the only control characters: escaped, no text can form a mention
 * (`<!channel>`, `<@U…>`) or a link. Text objects are `verbatim` so Slack does not turn bare URLs,
 * channel names or `@here` into links or mentions either.
 */
export function escapeMrkdwn(text: string): string {
  return text.replace(/[&<>]/g, (c) => ESCAPES[c]);
}

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;" };

/** Escaped, and cut so the escaped form fits in `max` characters (Slack counts what it receives). */
export function clipEscaped(text: string, max: number): { text: string; clipped: boolean } {
  const pieces: string[] = [];
  let length = 0;
  for (const c of text) {
    const piece = ESCAPES[c] ?? c;
    if (length + piece.length > max) {
      // Room for the ellipsis, without cutting an escape such as `&amp;` in half.
      while (pieces.length > 0 && length + 1 > max) length -= pieces.pop()!.length;
      return { text: `${pieces.join("")}…`, clipped: true };
    }
    pieces.push(piece);
    length += piece.length;
  }
  return { text: pieces.join(""), clipped: false };
}

/** A code block that no text inside can close early: a zero-width space splits every run of backticks. */
export function codeBlock(text: string, max: number): { text: string; clipped: boolean } {
  const fence = "```";
  const body = clipEscaped(text.replace(/`(?=`)/g, "`\u200b"), max - 2 * fence.length - 2);
  return { text: `${fence}\n${body.text}\n${fence}`, clipped: body.clipped };
}

export function mrkdwn(text: string): types.MrkdwnElement {
  return { type: "mrkdwn", text, verbatim: true };
}

/** A time every reader sees in their own time zone; the ISO form where Slack cannot render it. */
export function slackDate(at: Date): string {
  return `<!date^${Math.floor(at.getTime() / 1000)}^{date_short_pretty} {time}|${at.toISOString()}>`;
}

/** A link to one of Airlock's own pages (the URL is Airlock's, the label escaped). */
export function link(url: string, label: string): string {
  return `<${url}|${escapeMrkdwn(label)}>`;
}
