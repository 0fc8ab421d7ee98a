import type { NextRequest } from "next/server";
import { autoPostPage } from "@/lib/identity/saml/auto-post";
import { requestCookie } from "@/lib/identity/saml/request-cookie";
import { parsePublicUrl, type PublicUrl } from "@/lib/public-url";
import { getRuntime } from "@/lib/runtime";
import { sitePath } from "../relay-state";

/** Starts an SP-initiated SAML sign-in: the AuthnRequest by redirect or by an auto-posting form. */
export async function GET(req: NextRequest): Promise<Response> {
  const rt = getRuntime();
  if (!rt.saml) return Response.json({ error: { code: "not_found", message: "SAML sign-in is not configured (SAML_IDP_METADATA)" } }, { status: 404 });
  const start = await rt.saml.sp.startLogin(sitePath(req.nextUrl.searchParams.get("next")));
  const headers = new Headers({ "Cache-Control": "no-store", "Set-Cookie": requestCookie(parsePublicUrl(rt.publicUrl) as PublicUrl).set(start.requestId) });
  if ("redirect" in start) {
    headers.set("Location", start.redirect);
    return new Response(null, { status: 303, headers });
  }
  const page = autoPostPage(start.post.url, start.post.fields);
  headers.set("Content-Type", "text/html; charset=utf-8");
  headers.set("Content-Security-Policy", page.csp);
  return new Response(page.html, { headers });
}
