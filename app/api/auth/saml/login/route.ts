import type { NextRequest } from "next/server";
import { autoPostPage } from "@/lib/identity/saml/auto-post";
import { requestCookie } from "@/lib/identity/saml/request-cookie";
import { parsePublicUrl, type PublicUrl } from "@/lib/public-url";
import { getRuntime } from "@/lib/runtime";
import { sitePath } from "../relay-state";

/**
 * Starts an SP-initiated SAML sign-in: the AuthnRequest by redirect or by an auto-posting form.
 * `fresh=1` (a step-up request's "Sign in again to decide") asks the IdP for a new authentication.
 */
export async function GET(req: NextRequest): Promise<Response> {
  const rt = getRuntime();
  if (!rt.saml) return Response.json({ error: { code: "not_found", message: "SAML sign-in is not configured (SAML_IDP_METADATA)" } }, { status: 404 });
  const start = await rt.saml.sp.startLogin(sitePath(req.nextUrl.searchParams.get("next")), { forceAuthn: req.nextUrl.searchParams.get("fresh") === "1" });
  const headers = new Headers({ "Cache-Control": "no-store", "Set-Cookie": requestCookie(parsePublicUrl(rt.publicUrl) as PublicUrl).set(start.requestId) });
  if ("redirect" in start) {
    headers.set("Location", start.redirect);
    return new Response(null, { status: 303, headers });
  }
  // The dashboard's policy (server/security-headers.ts) stays on this page: its nonce admits the
  // script, and its form-action names the IdP's origin when the POST binding is used.
  const nonce = /'nonce-([^']+)'/.exec(req.headers.get("content-security-policy") ?? "")?.[1];
  headers.set("Content-Type", "text/html; charset=utf-8");
  return new Response(autoPostPage(start.post.url, start.post.fields, nonce).html, { headers });
}
