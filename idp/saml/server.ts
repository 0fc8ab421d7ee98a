import type { IncomingMessage, ServerResponse } from "node:http";
import { autoPostPage } from "../../lib/identity/saml/auto-post";
import { readBody } from "../interactions";
import { IDP_PAGE_CSP, renderIdpError, renderLoginPage } from "../login-page";
import { verifyPerson } from "../passwords";
import { readAuthnRequest, type AuthnRequest } from "./authn-request";
import type { SamlIdpKey } from "./keys";
import { idpMetadataXml } from "./metadata";
import { ASSERTION_LIFETIME_MS, buildSamlResponse } from "./response";

/** Where the development SAML IdP is mounted, below the public URL. */
export const DEV_SAML_IDP_PATH = "/saml-idp";
const MAX_FORM_BYTES = 128 * 1024;

export interface DevSamlIdpOptions {
  /** The public URL (prefix included): the IdP's entity id and endpoints are below it. */
  publicUrl: string;
  /** Airlock's own SP: the only one this IdP signs for. */
  sp: { entityId: string; acsUrl: string };
  key: SamlIdpKey;
}

export interface DevSamlIdp {
  entityId: string;
  metadata: string;
  mountPath: string;
  handle(req: IncomingMessage, res: ServerResponse): void;
}

/**
 * A development SAML IdP for the seeded people (same password as the OIDC one): SP-initiated
 * sign-in over HTTP-Redirect or HTTP-POST, answered with an assertion signed by the key in the
 * data dir. It serves Airlock alone and does not check AuthnRequest signatures: for one machine.
 */
export function createDevSamlIdp(options: DevSamlIdpOptions): DevSamlIdp {
  const base = `${options.publicUrl}${DEV_SAML_IDP_PATH}`;
  const entityId = `${base}/metadata`;
  const ssoUrl = `${base}/sso`;
  const loginAction = `${new URL(base).pathname}/login`;
  const metadata = idpMetadataXml(entityId, ssoUrl, options.key.cert);

  const showLogin = (res: ServerResponse, fields: { SAMLRequest: string; RelayState: string; binding: string }, status = 200, error?: string, email?: string) =>
    sendHtml(res, status, renderLoginPage({ action: loginAction, clientName: "Airlock (SAML)", hidden: fields, error, email }));

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://idp.invalid");
    const inner = url.pathname.slice(DEV_SAML_IDP_PATH.length);
    if (req.method === "GET" && inner === "/metadata") {
      res.writeHead(200, { "content-type": "application/samlmetadata+xml", "cache-control": "no-store" }).end(metadata);
      return;
    }
    if (inner === "/sso") {
      const binding = req.method === "POST" ? "post" : "redirect";
      const form = binding === "post" ? new URLSearchParams(await readBody(req, MAX_FORM_BYTES)) : url.searchParams;
      const fields = { SAMLRequest: form.get("SAMLRequest") ?? "", RelayState: form.get("RelayState") ?? "", binding };
      acceptRequest(readAuthnRequest(fields.SAMLRequest, binding));
      return showLogin(res, fields);
    }
    if (req.method === "POST" && inner === "/login") {
      const form = new URLSearchParams(await readBody(req, MAX_FORM_BYTES));
      const fields = { SAMLRequest: form.get("SAMLRequest") ?? "", RelayState: form.get("RelayState") ?? "", binding: form.get("binding") === "post" ? "post" : "redirect" };
      const request = acceptRequest(readAuthnRequest(fields.SAMLRequest, fields.binding as "post" | "redirect"));
      const email = form.get("email") ?? "";
      const person = verifyPerson(email, form.get("password") ?? "");
      if (!person) return showLogin(res, fields, 401, "Wrong email or password.", email);
      const now = new Date();
      const samlResponse = buildSamlResponse(
        {
          issuer: entityId,
          inResponseTo: request.id,
          recipient: options.sp.acsUrl,
          audience: options.sp.entityId,
          nameId: person.email,
          attributes: { email: person.email, name: person.name, groups: person.groups },
          notBefore: now,
          notOnOrAfter: new Date(now.getTime() + ASSERTION_LIFETIME_MS),
        },
        options.key,
      );
      const page = autoPostPage(options.sp.acsUrl, { SAMLResponse: samlResponse, ...(fields.RelayState ? { RelayState: fields.RelayState } : {}) });
      res.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store", "content-security-policy": page.csp }).end(page.html);
      return;
    }
    sendHtml(res, 404, renderIdpError("Not found", "The development SAML IdP has no such page."));
  }

  /** Only Airlock's own SP, answered at its own ACS URL: the IdP never posts a person's assertion elsewhere. */
  function acceptRequest(request: AuthnRequest): AuthnRequest {
    if (request.issuer !== options.sp.entityId) throw new Error(`unknown service provider ${request.issuer}`);
    if (request.acsUrl && request.acsUrl !== options.sp.acsUrl) throw new Error(`unknown AssertionConsumerServiceURL ${request.acsUrl}`);
    return request;
  }

  return {
    entityId,
    metadata,
    mountPath: DEV_SAML_IDP_PATH,
    handle(req, res) {
      serve(req, res).catch((err: unknown) => {
        console.error(`[saml-idp] ${req.method} ${req.url?.split("?")[0]} failed:`, err instanceof Error ? err.message : err);
        if (res.headersSent) return void res.end();
        sendHtml(res, 400, renderIdpError("Sign-in failed", "This sign-in request is invalid or expired. Go back to Airlock and start again."));
      });
    },
  };
}

function sendHtml(res: ServerResponse, status: number, html: string): void {
  res.writeHead(status, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store", "content-security-policy": IDP_PAGE_CSP }).end(html);
}
