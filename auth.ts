/**
 * Sign-in for people: next-auth (v5) against the configured OIDC issuer, or the development IdP.
 * Settings come from the runtime server.ts created, so issuer and URLs follow the real port.
 */
import NextAuth from "next-auth";
import { readGroupsClaim, roleForGroups, type Role } from "@/lib/identity/roles";
import { recordSignIn } from "@/lib/identity/people";
import { getRuntime } from "@/lib/runtime";

declare module "next-auth" {
  interface Session {
    user: { email: string; name?: string | null; groups: string[]; role: Role };
  }
}

const SESSION_MAX_AGE_SECONDS = 8 * 60 * 60;

export const { handlers, auth, signIn, signOut } = NextAuth(() => {
  const rt = getRuntime();
  const { sso, config } = rt;
  return {
    secret: rt.authSecret,
    trustHost: true,
    session: { strategy: "jwt", maxAge: SESSION_MAX_AGE_SECONDS },
    pages: { signIn: "/signin", error: "/signin" },
    providers: [
      {
        id: "sso",
        name: sso.development ? "Airlock development IdP" : "single sign-on",
        type: "oidc",
        issuer: sso.issuer,
        clientId: sso.clientId,
        clientSecret: sso.clientSecret,
        // The development IdP always asks, so switching between seeded people is one sign-out away.
        authorization: { params: { scope: config.oidcScopes, ...(sso.development ? { prompt: "login" } : {}) } },
        checks: ["pkce", "state", "nonce"],
      },
    ],
    callbacks: {
      jwt({ token, profile }) {
        if (profile) {
          token.email = typeof profile.email === "string" ? profile.email : (profile.sub ?? token.email);
          token.name = typeof profile.name === "string" ? profile.name : token.name;
          token.groups = readGroupsClaim(profile[config.groupsClaim]);
        }
        return token;
      },
      session({ session, token }) {
        const groups = readGroupsClaim(token.groups);
        // The role follows today's mapping, not the one in force when the person signed in.
        session.user = { ...session.user, email: token.email ?? "", groups, role: roleForGroups(groups, config.roleGroups) };
        return session;
      },
    },
    events: {
      signIn({ profile }) {
        if (!profile) return;
        const email = typeof profile.email === "string" ? profile.email : String(profile.sub);
        recordSignIn(rt, { email, name: typeof profile.name === "string" ? profile.name : null, groups: readGroupsClaim(profile[config.groupsClaim]) });
      },
    },
  };
});
