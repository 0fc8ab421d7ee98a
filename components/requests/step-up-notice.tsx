import { formatDuration } from "@/lib/policy/duration";

/**
 * A step-up request (review.step_up) says so on its page: decisions count only from a recent
 * sign-in. To an approver whose sign-in is too old (`stale`: why), it offers a new sign-in that
 * returns here; to one whose sign-in is fresh, until when it counts.
 */
export function StepUpNotice({
  requestId,
  stepUpMs,
  decider,
  stale,
  countsUntil,
  again,
}: {
  requestId: string;
  stepUpMs: number;
  /** Whether the viewer may decide it (role, group, not yet decided). */
  decider: boolean;
  stale?: string;
  countsUntil?: Date;
  /** The new sign-in offered: the OIDC one (a server action), or SAML's start (a link); none when that way is not configured. */
  again?: { action: (form: FormData) => Promise<void> } | { href: string };
}) {
  const within = formatDuration(stepUpMs);
  return (
    <section className="section panel" aria-labelledby="step-up-title" data-testid="step-up">
      <h2 id="step-up-title">Step-up</h2>
      <p>Decisions on this request count only from a sign-in to the identity provider within the last {within}, made in the console (a Slack click does not decide it).</p>
      {decider && stale && (
        <>
          <p className="alert" role="alert">
            {stale}
          </p>
          {again && "href" in again && (
            <a className="button button-primary" href={again.href}>
              Sign in again to decide
            </a>
          )}
          {again && "action" in again && (
            <form action={again.action}>
              <input type="hidden" name="requestId" value={requestId} />
              <button className="button button-primary" type="submit">
                Sign in again to decide
              </button>
            </form>
          )}
        </>
      )}
      {decider && !stale && countsUntil && (
        <p className="notice">
          Your sign-in counts for decisions until <time dateTime={countsUntil.toISOString()}>{countsUntil.toISOString()}</time>.
        </p>
      )}
    </section>
  );
}
