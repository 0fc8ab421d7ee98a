/** A row's decision, coloured by what it means: let through, changed, waited, stopped. */
export function DecisionBadge({ decision }: { decision: string | null }) {
  if (!decision) return null;
  return (
    <span className={`audit-decision audit-decision-${decision}`} data-testid="audit-decision">
      {decision}
    </span>
  );
}
