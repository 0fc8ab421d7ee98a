import { statementLines } from "@/lib/approvals/preview/lines";
import type { DryRun, ImpactPreview as Preview } from "@/lib/approvals/preview/types";

/**
 * A held request's impact preview (lib/approvals/preview): per statement its estimate, its dry
 * run's exact count with the sample of changed rows (masked as the agent's reads), its DDL risk.
 * Until the preview is made (in the background, after the request was announced) it says so; the
 * page refreshes itself when it arrives.
 */
export function ImpactPreview({ preview, pending }: { preview: Preview | undefined; pending: boolean }) {
  return (
    <section className="section panel" aria-labelledby="impact-title" data-testid="impact-preview">
      <h2 id="impact-title">Impact</h2>
      {!preview ? (
        <p className="muted">{pending ? "Estimating what it changes…" : "No preview was made."}</p>
      ) : preview.unavailable ? (
        <p className="muted">No preview: {preview.unavailable}</p>
      ) : (
        preview.statements.map((s, i) => (
          <div key={i}>
            {preview.statements.length > 1 && (
              <p className="muted small">
                <code>{s.text}</code>
              </p>
            )}
            <ul>
              {statementLines(s).map((line, j) => (
                <li key={j} data-testid="impact-line">
                  {line}
                </li>
              ))}
            </ul>
            {s.dryRun && "rows" in s.dryRun && s.dryRun.sample.length > 0 && <Sample run={s.dryRun} />}
          </div>
        ))
      )}
    </section>
  );
}

function Sample({ run }: { run: DryRun }) {
  const both = run.sample.some((r) => r.before) && run.sample.some((r) => r.after);
  return (
    <table className="table small" data-testid="dry-run-sample">
      <caption className="muted">
        The first {run.sample.length} of {run.rows} changed rows{both ? ", before → after" : ""}, masked as the agent would read them
      </caption>
      <thead>
        <tr>
          {run.columns.map((c) => (
            <th key={c}>{c}</th>
          ))}
        </tr>
      </thead>
      <tbody>
        {run.sample.map((row, i) => (
          <tr key={i}>
            {run.columns.map((c, j) => (
              <td key={c}>{cell(row.before?.[j], row.after?.[j], row.before !== undefined, row.after !== undefined)}</td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function cell(before: string | null | undefined, after: string | null | undefined, hasBefore: boolean, hasAfter: boolean): string {
  const show = (v: string | null | undefined) => (v === null || v === undefined ? "NULL" : v);
  if (hasBefore && hasAfter) return before === after ? show(after) : `${show(before)} → ${show(after)}`;
  return hasBefore ? show(before) : show(after);
}
