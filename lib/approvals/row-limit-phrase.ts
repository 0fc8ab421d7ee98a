/** How a row limit reads to people ("at most 5 rows"); apart from row-limit.ts so pages need no SQL parser for it. */
export function rowLimitPhrase(maxRows: number): string {
  return `at most ${maxRows} ${maxRows === 1 ? "row" : "rows"}`;
}
