import { randomBytes } from "node:crypto";
import { generateServiceProviderMetadata, SAML, ValidateInResponseTo, type SamlConfig } from "@node-saml/node-saml";
import type { IdpMetadata } from "./idp-metadata";
import type { OneTimeValues } from "./one-time";
import { checkDestination, checkSignedAssertion, hasSignature, inResponseTo } from "./assertion-checks";
import { authnInstantOf } from "./authn-instant";
import { personFromProfile, type AttributeNames, type SamlPerson } from "./person";
import { refusalFromLibrary, SamlRefusal } from "./refusal";
import { REQUEST_TTL_MS, requestIdCache } from "./request-cache";

/**
 * Clocks of the IdP and of Airlock may differ a little; a minute covers NTP-synchronised hosts
 * and keeps an expired assertion from living much past its NotOnOrAfter.
 */
export const CLOCK_SKEW_MS = 60_000;
/** A base64 SAMLResponse with a few dozen groups is tens of KiB; anything far larger is refused unread. */
export const MAX_RESPONSE_BYTES = 512 * 1024;

/** Airlock as a SAML service provider: its URLs follow AIRLOCK_PUBLIC_URL. */
export interface ServiceProviderSettings {
  entityId: string;
  acsUrl: string;
  /** PEM; AuthnRequests are signed when set (required when the IdP asks for it). */
  signing?: { privateKey: string; cert: string };
  attributes: AttributeNames;
  binding: "redirect" | "post";
}

/** Where the browser goes next to sign in: a redirect, or a form it posts to the IdP. */
export type LoginStart = { requestId: string } & ({ redirect: string } | { post: { url: string; fields: Record<string, string> } });

export class SamlServiceProvider {
  readonly #options: SamlConfig;
  readonly #verifier: SAML;

  constructor(
    readonly settings: ServiceProviderSettings,
    readonly idp: IdpMetadata,
    private readonly oneTime: OneTimeValues,
  ) {
    const entryPoint = settings.binding === "post" ? idp.sso.post : idp.sso.redirect;
    if (!entryPoint) throw new Error(`the IdP offers no HTTP-${settings.binding === "post" ? "POST" : "Redirect"} sign-in`);
    if (idp.wantsSignedRequests && !settings.signing) throw new Error("the IdP wants signed AuthnRequests: set SAML_SP_KEY_FILE and SAML_SP_CERT_FILE");
    this.#options = {
      issuer: settings.entityId,
      audience: settings.entityId,
      callbackUrl: settings.acsUrl,
      entryPoint,
      authnRequestBinding: settings.binding === "post" ? "HTTP-POST" : "HTTP-Redirect",
      // The POST binding carries the request base64 only (SAML bindings, 3.5.4); node-saml would deflate it too.
      skipRequestCompression: settings.binding === "post",
      idpIssuer: idp.entityId,
      idpCert: idp.signingCerts,
      // Either the response or the assertion must carry a valid signature over the assertion
      // (node-saml refuses one with neither): Okta and Entra sign assertions, Keycloak by default
      // only responses. Requiring one kind would lock out an IdP that signs the other.
      wantAuthnResponseSigned: false,
      wantAssertionsSigned: false,
      acceptedClockSkewMs: CLOCK_SKEW_MS,
      validateInResponseTo: ValidateInResponseTo.always,
      requestIdExpirationPeriodMs: REQUEST_TTL_MS,
      cacheProvider: requestIdCache(oneTime),
      // Let the IdP choose the NameID format and how to authenticate: a requested one it does not
      // offer (Entra, with MFA) fails the sign-in at the IdP.
      identifierFormat: null,
      disableRequestedAuthnContext: true,
      ...(settings.signing ? { privateKey: settings.signing.privateKey, publicCert: settings.signing.cert, signatureAlgorithm: "sha256" as const } : {}),
    };
    this.#verifier = new SAML(this.#options);
  }

  /**
   * An AuthnRequest for the IdP; its id goes to the browser (a cookie) and to the store. With
   * `forceAuthn` (a step-up's "sign in again") it asks the IdP to authenticate the person anew
   * rather than reuse its session (ForceAuthn="true", SAML core 3.4.1).
   */
  async startLogin(relayState: string, options: { forceAuthn?: boolean } = {}): Promise<LoginStart> {
    const requestId = `_${randomBytes(20).toString("hex")}`;
    // One SAML object per request, so the id it puts in the request is the one given back.
    const saml = new SAML({ ...this.#options, forceAuthn: options.forceAuthn === true, generateUniqueId: () => requestId });
    if (this.settings.binding === "redirect") return { requestId, redirect: await saml.getAuthorizeUrlAsync(relayState, undefined, {}) };
    const fields = await saml.getAuthorizeMessageAsync(relayState, undefined, {});
    return { requestId, post: { url: this.#options.entryPoint!, fields: Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, String(v)])) } };
  }

  /**
   * The person a SAMLResponse (HTTP-POST binding) signs in, or a SamlRefusal saying why not.
   * `browserRequestId` is the AuthnRequest id this browser was given at the start: a response to
   * anyone else's request (an attacker's, pushed into this browser) is refused.
   */
  async verify(samlResponse: string, browserRequestId: string | undefined): Promise<SamlPerson> {
    if (samlResponse.length > MAX_RESPONSE_BYTES) throw new SamlRefusal("malformed", `over ${MAX_RESPONSE_BYTES} bytes`);
    const xml = Buffer.from(samlResponse, "base64").toString("utf8");
    try {
      if (!hasSignature(xml)) throw new SamlRefusal("unsigned");
      const answered = inResponseTo(xml);
      if (!browserRequestId || answered !== browserRequestId) throw new SamlRefusal("request", answered ? "InResponseTo is not this browser's request" : "no InResponseTo (IdP-initiated sign-in is not accepted)");
      checkDestination(xml, this.settings.acsUrl);
      const { profile } = await this.#verifier.validatePostResponseAsync({ SAMLResponse: samlResponse });
      if (!profile) throw new SamlRefusal("status", "no assertion");
      const signedAssertion = profile.getAssertionXml!();
      const use = checkSignedAssertion(signedAssertion, { issuer: this.idp.entityId, acsUrl: this.settings.acsUrl }, CLOCK_SKEW_MS);
      const authnInstant = authnInstantOf(signedAssertion);
      const person = { ...personFromProfile(profile, this.settings.attributes), ...(authnInstant ? { authnInstant } : {}) };
      if (!(await this.oneTime.add(`assertion:${this.idp.entityId}:${use.id}`, person.email, use.usableUntil))) throw new SamlRefusal("replayed", `assertion ${use.id}`);
      return person;
    } catch (err) {
      throw refusalFromLibrary(err);
    }
  }

  /** Airlock's SP metadata, for the IdP's administrator (`/api/auth/saml/metadata`). */
  metadata(): string {
    return generateServiceProviderMetadata({
      issuer: this.settings.entityId,
      callbackUrl: this.settings.acsUrl,
      identifierFormat: null,
      // Asks the IdP to sign assertions (Keycloak turns it on when importing this); responses
      // signed whole are accepted as well.
      wantAssertionsSigned: true,
      // node-saml publishes the certificate (AuthnRequestsSigned) only when it also has the key.
      privateKey: this.settings.signing?.privateKey,
      publicCerts: this.settings.signing?.cert ?? null,
      decryptionCert: null,
    });
  }
}
