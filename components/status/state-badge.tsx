/** A part's state at a glance: good (green), bad (red) or neither (grey). */
export function StateBadge({ tone, children, testId }: { tone: "good" | "bad" | "neutral"; children: string; testId?: string }) {
  const className = tone === "good" ? "badge-approver" : tone === "bad" ? "badge-danger" : "badge-viewer";
  return (
    <span className={`badge ${className}`} data-testid={testId}>
      {children}
    </span>
  );
}
