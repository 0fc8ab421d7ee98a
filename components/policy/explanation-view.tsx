import type { Explanation, StatementExplanation } from "@/lib/policy/explain";

const ACTION_LABEL = { allow: "Allowed", deny: "Refused", review: "Held for review" } as const;

export function ExplanationView({ explanation }: { explanation: Explanation }) {
  const { verdict } = explanation;
  return (
    <section className="explanation" aria-live="polite" data-testid="explanation">
      <p className={`verdict verdict-${verdict.action}`}>
        <strong>{ACTION_LABEL[verdict.action]}</strong>
        {verdict.rule ? <> by rule <code>{verdict.rule.name}</code></> : <> — no rule matched</>}
      </p>
      <p className="muted">{verdict.why}</p>
      {verdict.action === "review" && verdict.rule?.review && (
        <p>
          Needs {verdict.rule.review.count} approval{verdict.rule.review.count > 1 ? "s" : ""} from {verdict.rule.review.approvers.join(", ")}.
        </p>
      )}
      {explanation.statements.map(({ statement, trace, masking, rowFilters }, i) => (
        <div key={i} className="explained-statement">
          <pre>
            <code>{statement.text}</code>
          </pre>
          <dl className="facts">
            <dt>Kinds</dt>
            <dd>
              {statement.kinds.map((k) => (
                <span key={k} className={`kind kind-${k}`}>
                  {k}
                </span>
              ))}
            </dd>
            <Fact label="Reads" values={statement.reads} />
            <Fact label="Writes" values={statement.writes} />
            <Fact label="Functions" values={statement.functions} />
            <Fact label="Notes" values={statement.reasons} separator="; " />
          </dl>
          {rowFilters?.rewritten && (
            <div className="row-filters" data-testid="row-filters">
              <p>Row filters apply: it runs as</p>
              <pre>
                <code>{rowFilters.rewritten}</code>
              </pre>
            </div>
          )}
          {rowFilters?.refused && (
            <p className="row-filters" data-testid="row-filters">
              Refused under row filters: {rowFilters.refused}
            </p>
          )}
          {masking && <MaskingPreview masking={masking} held={verdict.action === "review"} />}
          <ol className="trace">
            {trace.map((t) => (
              <li key={t.rule} className={t.skipped ? "skipped" : "matched"}>
                <code>{t.rule}</code>
                {t.line ? <span className="muted"> line {t.line}</span> : null}: {t.skipped ? t.skipped : "matches — decides"}
              </li>
            ))}
          </ol>
        </div>
      ))}
    </section>
  );
}

function Fact({ label, values, separator = ", " }: { label: string; values: readonly string[]; separator?: string }) {
  if (values.length === 0) return null;
  return (
    <>
      <dt>{label}</dt>
      <dd>{values.join(separator)}</dd>
    </>
  );
}

const EFFECT_LABEL = { masked: "masked", searched: "searched for personal data", unchanged: "unchanged" } as const;

/** Column by column, what masking would do to the statement's result. */
export function MaskingPreview({ masking, held }: { masking: NonNullable<StatementExplanation["masking"]>; held: boolean }) {
  const { mask, columns } = masking;
  return (
    <div className="masking-preview" data-testid="masking-preview">
      <p>
        {held ? "Once approved, its result is masked" : "Its result is masked"} ({mask.strategy}
        {mask.detect.length > 0 ? `; detectors: ${mask.detect.join(", ")}` : ""}):
      </p>
      <ul>
        {columns.map((c, i) => (
          <li key={i} className={`mask-${c.effect}`}>
            <code>{c.column}</code> — {EFFECT_LABEL[c.effect]}
            {c.because.length > 0 ? <span className="muted"> (from {c.because.join(", ")})</span> : null}
          </li>
        ))}
      </ul>
    </div>
  );
}
