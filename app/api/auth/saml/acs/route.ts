import type { NextRequest } from "next/server";
import { signIn } from "@/auth";
import { samlRefusedCode } from "@/lib/identity/saml/credentials";
import { requestCookie } from "@/lib/identity/saml/request-cookie";
import { logger } from "@/lib/log";
import { parsePublicUrl, publicHref, type PublicUrl } from "@/lib/public-url";
import { getRuntime } from "@/lib/runtime";
import { sitePath } from "../relay-state";

const log = logger("saml");

/**
 * The Assertion Consumer Service (HTTP-POST binding). The IdP's form posts the SAMLResponse here;
 * it goes to next-auth's SAML provider, which verifies it and makes the same session an OIDC
 * sign-in gets. Refused or not, the browser's pending request is forgotten.
 */
export async function POST(req: NextRequest): Promise<Response> {
  const rt = getRuntime();
  const pub = parsePublicUrl(rt.publicUrl) as PublicUrl;
  const headers = new Headers({ "Cache-Control": "no-store", "Set-Cookie": requestCookie(pub).clear() });
  if (!rt.saml) return Response.json({ error: { code: "not_found", message: "SAML sign-in is not configured (SAML_IDP_METADATA)" } }, { status: 404, headers });
  let target: string;
  try {
    const form = await req.formData();
    const samlResponse = form.get("SAMLResponse");
    target = await signIn("saml", { SAMLResponse: typeof samlResponse === "string" ? samlResponse : "", redirectTo: sitePath(form.get("RelayState")), redirect: false });
  } catch (err) {
    const code = samlRefusedCode(err);
    if (!code) log.error(`SAML sign-in failed: ${err instanceof Error ? err.message : err}`);
    target = publicHref(pub, `/signin?${new URLSearchParams(code ? { error: "CredentialsSignin", code } : { error: "Configuration" })}`);
  }
  headers.set("Location", target);
  return new Response(null, { status: 303, headers });
}
