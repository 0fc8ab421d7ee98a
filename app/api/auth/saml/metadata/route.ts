import { getRuntime } from "@/lib/runtime";

/** Airlock's SP metadata, at a stable URL for the IdP's administrator to import. */
export function GET(): Response {
  const { saml } = getRuntime();
  if (!saml) return Response.json({ error: { code: "not_found", message: "SAML sign-in is not configured (SAML_IDP_METADATA)" } }, { status: 404 });
  return new Response(saml.sp.metadata(), { headers: { "Content-Type": "application/samlmetadata+xml; charset=utf-8", "Cache-Control": "no-store" } });
}
