const MAX_CHARS = 160;

/** One line of SQL, shortened; the whole statement on hover. */
export function SqlSnippet({ sql }: { sql: string }) {
  const flat = sql.replace(/\s+/g, " ").trim();
  return (
    <code className="sql-snippet" title={sql}>
      {flat.length > MAX_CHARS ? `${flat.slice(0, MAX_CHARS - 1)}…` : flat}
    </code>
  );
}
