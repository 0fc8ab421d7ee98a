import type { Metadata } from "next";
import { redirect } from "next/navigation";
import { auth } from "@/auth";
import { DEV_PASSWORD, SEED_PEOPLE } from "@/idp/seed";
import { getRuntime } from "@/lib/runtime";
import { signInWithSso } from "./actions";

export const metadata: Metadata = { title: "Sign in" };

const ERRORS: Record<string, string> = {
  AccessDenied: "Your identity provider did not let you in.",
  Configuration: "Sign-in is misconfigured on the server; the log says why.",
};

export default async function SignInPage({ searchParams }: { searchParams: Promise<{ error?: string; callbackUrl?: string }> }) {
  const { error, callbackUrl } = await searchParams;
  if ((await auth())?.user) redirect("/");
  const { sso } = getRuntime();
  const message = error ? (ERRORS[error] ?? "Sign-in did not complete. Try again.") : undefined;

  return (
    <div className="auth-shell">
      <main className="auth-card">
        <h1>Airlock</h1>
        <p>Just-in-time access for AI agents. Sign in to review and approve their requests.</p>
        {message && <div className="alert" role="alert">{message}</div>}
        <form action={signInWithSso}>
          <input type="hidden" name="next" value={callbackUrl ?? "/"} />
          <button className="button button-primary" type="submit">
            Sign in with {sso.development ? "the development IdP" : "SSO"}
          </button>
        </form>
        {sso.development && (
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
