/**
 * Sign-in for people: next-auth (v5) against the configured OIDC issuer, or the development IdP.
 * Settings come from the runtime server.ts created, so issuer and URLs follow the real port.
 */
import NextAuth, { customFetch, type NextAuthConfig } from "next-auth";
import type { Provider } from "next-auth/providers";
import { AUTH_PATH, DEV_IDP_PATH, parsePublicUrl, publicHref } from "@/lib/public-url";
import { readGroupsClaim, roleForGroups, type Role } from "@/lib/identity/roles";
import { recordSignIn, recordSignInRefused } from "@/lib/identity/people";
import { identityFromProfile, identityFromToken, type PersonIdentity } from "@/lib/identity/person-identity";
import { samlCredentialsProvider, type SamlUser } from "@/lib/identity/saml/credentials";
import { authTimeOf, type SessionSignIn } from "@/lib/identity/sign-in-time";
import { getRuntime } from "@/lib/runtime";

declare module "next-auth" {
  interface Session {
    /** `identity`: issuer and subject, so decisions compare who a person is, not only their email. */
    /** `signIn`: how, and when the IdP last saw them sign in (auth_time), for step-up requests (lib/approvals/step-up.ts). */
    user: { email: string; name?: string | null; groups: string[]; role: Role; identity?: PersonIdentity; signIn?: SessionSignIn };
  }
}

const SESSION_MAX_AGE_SECONDS = 8 * 60 * 60;

/**
 * Every URL next-auth makes follows AIRLOCK_PUBLIC_URL: the base path carries its prefix, and the
 * origin comes from AUTH_URL (server.ts sets it) in server actions and from the request the route
 * handler rebuilds on the public URL (app/api/auth). `trustHost` only stops next-auth refusing a
 * request whose Host it was not told about; no URL is built from that header.
 */
export function authConfig(): NextAuthConfig {
  const rt = getRuntime();
  const { sso, config } = rt;
  const pub = parsePublicUrl(rt.publicUrl);
  if (typeof pub === "string") throw new Error(`public URL: ${pub}`);
  return {
    secret: rt.authSecret,
    trustHost: true,
    basePath: `${pub.prefix}${AUTH_PATH}`,
    // From the public URL, not the request's protocol: behind a TLS proxy Airlock itself sees http.
    useSecureCookies: pub.secure,
    session: { strategy: "jwt", maxAge: SESSION_MAX_AGE_SECONDS },
    pages: { signIn: `${pub.prefix}/signin`, error: `${pub.prefix}/signin` },
    providers: [
      // Not when the development IdP serves agents only, beside a company SAML IdP (SsoSettings.people).
      ...(sso.people ? [{
        id: "sso",
        name: sso.development ? "Airlock development IdP" : "single sign-on",
        type: "oidc",
        issuer: sso.issuer,
        clientId: sso.clientId,
        clientSecret: sso.clientSecret,
        // The development IdP always asks, so switching between seeded people is one sign-out away.
        authorization: { params: { scope: config.oidcScopes, ...(sso.development ? { prompt: "login" } : {}) } },
        checks: ["pkce", "state", "nonce"],
        ...(sso.development ? { [customFetch]: loopbackFetch(sso.issuer, `${rt.internalUrl}${DEV_IDP_PATH}`) } : {}),
      } satisfies Provider] : []),
      // SAML through a Credentials provider fed the verified assertion: the session is the same
      // JWT session OIDC sign-ins get (docs/people-identity.md says why not a bridge).
      ...(rt.saml ? [samlCredentialsProvider(rt.saml, pub, (r) => recordSignInRefused(rt, { method: "saml", code: r.code, reason: r.message }))] : []),
    ],
    callbacks: {
      // Relative targets are under the public URL, prefix included; other sites are refused.
      redirect({ url }) {
        if (url.startsWith("/") && !url.startsWith("//")) return publicHref(pub, url);
        return url === pub.href || url.startsWith(`${pub.href}/`) ? url : pub.href;
      },
      jwt({ token, profile, user, account }) {
        if (account?.provider === "saml" && user) {
          const saml = user as SamlUser;
          Object.assign(token, { email: saml.email, name: saml.name, groups: saml.groups, sub: saml.id, issuer: saml.issuer, signIn: { method: "saml", ...authTimeOf({ auth_time: saml.authTime }) } satisfies SessionSignIn });
        } else if (profile) {
          token.email = typeof profile.email === "string" ? profile.email : (profile.sub ?? token.email);
          token.name = typeof profile.name === "string" ? profile.name : token.name;
          token.groups = readGroupsClaim(profile[config.groupsClaim]);
          const identity = identityFromProfile(profile, sso.issuer);
          token.sub = identity?.subject;
          token.issuer = identity?.issuer;
          // Each sign-in replaces it: a new login ("Sign in again to decide") brings a new auth_time.
          token.signIn = { method: "oidc", ...authTimeOf(profile) } satisfies SessionSignIn;
        }
        return token;
      },
      session({ session, token }) {
        const groups = readGroupsClaim(token.groups);
        // The role follows today's mapping, not the one in force when the person signed in.
        session.user = { ...session.user, email: token.email ?? "", groups, role: roleForGroups(groups, config.roleGroups), identity: identityFromToken(token), signIn: token.signIn as SessionSignIn | undefined };
        return session;
      },
    },
    events: {
      async signIn({ profile, user, account }) {
        if (account?.provider === "saml") {
          const saml = user as SamlUser;
          await recordSignIn(rt, { email: saml.email, name: saml.name, groups: saml.groups });
          return;
        }
        if (!profile) return;
        const email = typeof profile.email === "string" ? profile.email : String(profile.sub);
        await recordSignIn(rt, { email, name: typeof profile.name === "string" ? profile.name : null, groups: readGroupsClaim(profile[config.groupsClaim]) });
      },
    },
  };
}

// Route handlers: app/api/auth builds its request on the public URL and calls Auth.js itself.
export const { auth, signIn, signOut } = NextAuth(authConfig);

/**
 * The development IdP runs in this process under the public issuer URL, which may not resolve
 * from here (a name only browsers know) or may lead through a TLS proxy; the server's own calls to
 * it (discovery, token, JWKS) go to its loopback listener instead. The IdP answers with the public
 * URLs whatever address it was called on (idp/provider.ts).
 */
function loopbackFetch(publicIssuer: string, internalIssuer: string): typeof fetch {
  return (input, init) => {
    const url = input instanceof Request ? input.url : input.toString();
    if (url !== publicIssuer && !url.startsWith(`${publicIssuer}/`)) return fetch(input, init);
    const target = `${internalIssuer}${url.slice(publicIssuer.length)}`;
    return fetch(input instanceof Request ? new Request(target, input) : target, init);
  };
}
