const MAX_CHARS = 160;
/** The hover text is bounded too: a statement handed in whole (a request's) never fills the page. */
const MAX_TITLE_CHARS = 16 * 1024;

/** The whole statement's size and hash, when the text at hand is only its stored prefix. */
export interface CutStatement {
  bytes: number | null;
  sha256: string | null;
}

/** One line of SQL, shortened; the statement (at most its stored prefix) on hover, and a note when it was cut. */
export function SqlSnippet({ sql, whole }: { sql: string; whole?: CutStatement }) {
  const flat = sql.replace(/\s+/g, " ").trim();
  const title = sql.length > MAX_TITLE_CHARS ? `${sql.slice(0, MAX_TITLE_CHARS)}…` : sql;
  const size = whole?.sha256 ? `… ${(whole.bytes ?? 0).toLocaleString("en-US")} bytes, sha256` : undefined;
  return (
    <>
      <code className="sql-snippet" title={size ? `${title}\n${size} ${whole?.sha256}` : title}>
        {flat.length > MAX_CHARS ? `${flat.slice(0, MAX_CHARS - 1)}…` : flat}
      </code>
      {size && (
        <span className="muted small sql-cut" data-testid="sql-cut" title={`${size} ${whole?.sha256}`}>
          {` ${size} ${whole?.sha256?.slice(0, 12)}…`}
        </span>
      )}
    </>
  );
}
