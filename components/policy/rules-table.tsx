import type { Rule } from "@/lib/policy/policy-file";

export function RulesTable({ rules }: { rules: readonly Rule[] }) {
  return (
    <table className="table" aria-label="Policy rules">
      <thead>
        <tr>
          <th>Rule</th>
          <th>Matches</th>
          <th>Action</th>
        </tr>
      </thead>
      <tbody>
        {rules.map((rule) => (
          <tr key={rule.name}>
            <td>
              <code>{rule.name}</code>
              {rule.line && <div className="muted small">line {rule.line}</div>}
            </td>
            <td className="small">
              {Object.entries(rule.match).map(([field, values]) => (
                <div key={field}>
                  <span className="muted">{field}:</span> {(values as string[]).join(", ")}
                </div>
              ))}
              {Object.keys(rule.match).length === 0 && <span className="muted">everything</span>}
            </td>
            <td>
              <span className={`verdict-badge verdict-${rule.action}`}>{rule.action}</span>
              {rule.review && (
                <div className="muted small">
                  {rule.review.count} of {rule.review.approvers.join(", ")}
                </div>
              )}
              {rule.mask && <div className="muted small">masks {rule.mask.columns.length} columns</div>}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
