import { Auth } from "@auth/core";
import type { NextRequest } from "next/server";
import { authConfig } from "@/auth";
import { getRuntime } from "@/lib/runtime";

/**
 * next-auth's own route handlers take the request's URL from Next.js, which names any loopback
 * host `localhost` (NextURL), even after AUTH_URL's origin is put in: served as 127.0.0.1 the
 * callback then sent a redirect_uri the IdP never issued the code for (invalid_grant), and sent
 * the browser to localhost (nextauthjs/next-auth#12321). So the request is rebuilt on the public
 * URL, as a plain Request, and handed to Auth.js directly.
 */
async function handle(req: NextRequest): Promise<Response> {
  const { pathname, search } = req.nextUrl;
  const body = req.method === "GET" || req.method === "HEAD" ? undefined : await req.arrayBuffer();
  const request = new Request(`${getRuntime().publicUrl}${pathname}${search}`, { method: req.method, headers: req.headers, body });
  return Auth(request, authConfig());
}

export { handle as GET, handle as POST };
