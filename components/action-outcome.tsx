/** What a console form's server action answers: a message to show, or why it did nothing. */
export type ActionResult = { ok: true; message: string } | { ok: false; error: string };

/** The answer under a form, announced to screen readers (an error as an alert). */
export function ActionOutcome({ result }: { result: ActionResult | undefined }) {
  if (!result) return null;
  return (
    <p className={result.ok ? "notice" : "alert"} role={result.ok ? "status" : "alert"}>
      {result.ok ? result.message : result.error}
    </p>
  );
}
