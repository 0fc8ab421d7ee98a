import type { Explanation } from "@/lib/policy/explain";

const ACTION_LABEL = { allow: "Allowed", deny: "Refused", review: "Held for review" } as const;

export function ExplanationView({ explanation }: { explanation: Explanation }) {
  const { verdict } = explanation;
  const mask = verdict.action === "allow" ? verdict.rule?.mask : undefined;
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
      {mask && (
        <p>
          Masked: columns {mask.columns.length ? mask.columns.map((c) => <code key={c}>{c} </code>) : "none"}; detectors {mask.detect.join(", ") || "none"} ({mask.strategy}).
        </p>
      )}
      {explanation.statements.map(({ statement, trace }, i) => (
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
