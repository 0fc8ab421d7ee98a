import type { SessionSignIn } from "../identity/sign-in-time";
import { formatDuration } from "../policy/duration";

/**
 * How a person's console session was signed in: the method, and when they last proved themselves
 * to the identity provider (an OIDC ID token's `auth_time`, a SAML assertion's `AuthnInstant`). A
 * Slack click carries none.
 */
export interface SignIn {
  method: "oidc" | "saml";
  /** Undefined when the IdP did not say (no `auth_time`): then no step-up request counts it as fresh. */
  at?: Date;
}

/** How far ahead of Airlock's clock an IdP may date a sign-in that still counts. */
const CLOCK_SKEW_MS = 60_000;

/**
 * Why this sign-in does not satisfy the request's step-up (`review.step_up`), or undefined when it
 * does or none is asked. Fails closed: no sign-in (Slack), or one without a time, never counts.
 * Every way of deciding asks here, through the approvals service.
 */
export function whyNotSteppedUp(request: { stepUpMs: number | null }, signIn: SignIn | undefined, now = new Date()): string | undefined {
  const { stepUpMs } = request;
  if (stepUpMs === null) return undefined;
  const within = formatDuration(stepUpMs);
  if (!signIn) return `this request counts only decisions from a sign-in within the last ${within} (step-up): decide it on its page, after signing in again`;
  if (!signIn.at) return `this request counts only decisions from a sign-in within the last ${within} (step-up), and your identity provider did not say when you signed in: sign in again to decide`;
  // A time ahead of ours (the IdP's clock) would keep the sign-in fresh past the step-up: a little skew only.
  if (signIn.at.getTime() - now.getTime() > CLOCK_SKEW_MS) return `Your sign-in is dated in the future (${signIn.at.toISOString()}): the identity provider's clock is ahead of Airlock's, so it cannot count for a step-up request; sign in again to decide`;
  if (now.getTime() - signIn.at.getTime() > stepUpMs) return `Your sign-in (at ${signIn.at.toISOString()}) is older than this request allows: it counts only decisions from a sign-in within the last ${within} (step-up); sign in again to decide`;
  return undefined;
}

/** The OIDC parameters of a sign-in that proves a fresh one: a new login, and the IdP must say when (max_age makes auth_time mandatory). */
export function stepUpSignInParams(stepUpMs: number): { prompt: "login"; max_age: string } {
  return { prompt: "login", max_age: String(Math.max(0, Math.floor(stepUpMs / 1000))) };
}

/**
 * A web session's sign-in as the approvals service takes it. A session from before sign-in times
 * were kept has none: an OIDC sign-in without a time, which no step-up request counts.
 */
export function signInOfSession(session: SessionSignIn | undefined): SignIn {
  if (!session) return { method: "oidc" };
  return { method: session.method, ...(session.authTime !== undefined ? { at: new Date(session.authTime * 1000) } : {}) };
}
