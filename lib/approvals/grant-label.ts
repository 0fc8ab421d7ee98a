/** How a grant choice reads, alike on the web and in Slack: "once", "for 15 min", "for 1 h". */
export function grantPhrase(option: "once" | number | null): string {
  if (option === "once" || option === null) return "once";
  const minutes = option / 60_000;
  return `for ${minutes % 60 === 0 ? `${minutes / 60} h` : `${minutes} min`}`;
}

/** The label of an approve button: "Approve once", "Approve for 15 min". */
export function approveLabel(option: "once" | number): string {
  return `Approve ${grantPhrase(option)}`;
}
