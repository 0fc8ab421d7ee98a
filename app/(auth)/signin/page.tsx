import type { Metadata } from "next";
import { redirect } from "next/navigation";
import { auth } from "@/auth";
import { DEV_PASSWORD, SEED_PEOPLE } from "@/idp/seed";
import { SAML_REFUSALS, type SamlRefusalCode } from "@/lib/identity/saml/refusal";
import { SAML_PATHS } from "@/lib/identity/saml/start";
import { parsePublicUrl, publicHref, type PublicUrl } from "@/lib/public-url";
import { getRuntime } from "@/lib/runtime";
import { signInWithSso } from "./actions";

export const metadata: Metadata = { title: "Sign in" };

const ERRORS: Record<string, string> = {
  AccessDenied: "Your identity provider did not let you in.",
  Configuration: "Sign-in is misconfigured on the server; the log says why.",
};

/** A refused SAML sign-in says why (the codes name no person or secret); the log has the details. */
function samlRefusal(code: string | undefined): string | undefined {
  const reason = code?.startsWith("saml_") ? SAML_REFUSALS[code.slice(5) as SamlRefusalCode] : undefined;
  return reason ? `SAML sign-in was refused: ${reason}.` : undefined;
}

export default async function SignInPage({ searchParams }: { searchParams: Promise<{ error?: string; code?: string; callbackUrl?: string }> }) {
  const { error, code, callbackUrl } = await searchParams;
  if ((await auth())?.user) redirect("/");
  const { sso, saml, publicUrl } = getRuntime();
  const message = error ? (samlRefusal(code) ?? ERRORS[error] ?? "Sign-in did not complete. Try again.") : undefined;
  // A plain link, not a form: the redirect to the IdP then needs no form-action for its origin.
  const samlHref = `${publicHref(parsePublicUrl(publicUrl) as PublicUrl, SAML_PATHS.login)}?${new URLSearchParams({ next: callbackUrl ?? "/" })}`;

  return (
    <div className="auth-shell">
      <main className="auth-card">
        <h1>Airlock</h1>
        <p>Just-in-time access for AI agents. Sign in to review and approve their requests.</p>
        {message && <div className="alert" role="alert">{message}</div>}
        {sso.people && (
          <form action={signInWithSso}>
            <input type="hidden" name="next" value={callbackUrl ?? "/"} />
            <button className="button button-primary" type="submit">
              Sign in with {sso.development ? "the development IdP" : "SSO"}
            </button>
          </form>
        )}
        {saml && (
          <a className="button" href={samlHref}>
            Sign in with {saml.development ? "the development SAML IdP" : "SAML"}
          </a>
        )}
        {((sso.development && sso.people) || saml?.development) && (
          <div className="auth-hint">
            Development identity provider: every seeded person&apos;s password is <code>{DEV_PASSWORD}</code>.
            <ul>
              {SEED_PEOPLE.map((p) => (
                <li key={p.email}>
                  <code>{p.email}</code> — {p.groups.join(", ")}
                </li>
              ))}
            </ul>
          </div>
        )}
      </main>
    </div>
  );
}
