/** Pages of the waiting queue: plain links that keep the filters, so each page has its own URL. */
export function QueuePager({ page, pages, params }: { page: number; pages: number; params: Record<string, string | undefined> }) {
  if (pages <= 1) return null;
  const href = (to: number) => {
    const query = new URLSearchParams(Object.entries({ ...params, page: to > 1 ? String(to) : undefined }).filter((e): e is [string, string] => !!e[1]));
    return `?${query}`;
  };
  return (
    <nav className="pager" aria-label="Pages of waiting requests">
      {page > 1 ? <a href={href(page - 1)}>Newer</a> : null}
      <span>
        Page {page} of {pages}
      </span>
      {page < pages ? <a href={href(page + 1)}>Older</a> : null}
    </nav>
  );
}
