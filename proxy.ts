import { NextResponse, type NextRequest } from "next/server";

/**
 * A first gate before any page renders: a request with no session cookie at all never reaches a
 * page. It only looks for the cookie (Next.js runs this apart from the app's services); whether
 * the session is real, unexpired and allowed is each page's, action's and route's own check
 * (app/current-person.ts), which this gate does not replace.
 */
export function proxy(request: NextRequest): NextResponse | undefined {
  if (request.cookies.getAll().some((c) => SESSION_COOKIE.test(c.name))) return undefined;
  // The router's fetches (RSC, prefetches, server actions) want data, not a page to follow.
  const wantsData = request.headers.has("rsc") || request.headers.has("next-router-prefetch") || request.headers.has("next-action");
  if (wantsData || request.nextUrl.pathname.startsWith("/api/")) {
    return NextResponse.json({ error: { code: "unauthenticated", message: "sign in first" } }, { status: 401, headers: { "Cache-Control": "no-store" } });
  }
  return NextResponse.redirect(new URL("/signin", request.url));
}

/** next-auth's session cookie, plain or `__Secure-`, whole or in chunks (`.0`, `.1`…). */
const SESSION_COOKIE = /^(__Secure-)?authjs\.session-token(\.\d+)?$/;

/** Open to the signed-out: sign-in itself, health and readiness, the agents' bearer-token API and Next.js's own assets. */
export const config = {
  matcher: ["/((?!signin|api/auth/|api/health|api/ready|api/v1/|_next/|favicon\\.ico).*)"],
};
