/** How a grant choice reads, alike on the web and in Slack: "once", "for 15 min", "for 1 h". */
export function grantPhrase(option: "once" | number | null): string {
  if (option === "once" || option === null) return "once";
  return `for ${durationPhrase(option)}`;
}

/** A length for people: "15 min", "1 h", "90 s". */
export function durationPhrase(ms: number): string {
  if (ms % 60_000 !== 0) return `${Math.round(ms / 1000)} s`;
  const minutes = ms / 60_000;
  return minutes % 60 === 0 ? `${minutes / 60} h` : `${minutes} min`;
}

/** The label of an approve button: "Approve once", "Approve for 15 min". */
export function approveLabel(option: "once" | number): string {
  return `Approve ${grantPhrase(option)}`;
}
