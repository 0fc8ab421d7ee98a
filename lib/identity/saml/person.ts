import type { Profile } from "@node-saml/node-saml";
import { readGroupsClaim } from "../roles";
import { SamlRefusal } from "./refusal";

/** A person as a verified SAML assertion describes them. */
export interface SamlPerson {
  email: string;
  name: string | null;
  groups: string[];
  /** The IdP's entity id and the NameID: who the person is to their IdP (lib/identity/person-identity.ts). */
  issuer: string;
  subject: string;
  /** When the IdP says they authenticated (AuthnInstant of the signed assertion), for step-up requests. */
  authnInstant?: Date;
}

export interface AttributeNames {
  email: string;
  name: string;
  groups: string;
}

/**
 * The email comes from its attribute, or from a NameID that is an email address (Okta's and
 * Google's default); groups from their attribute, read as the OIDC groups claim is, so the same
 * role mapping applies to both.
 */
export function personFromProfile(profile: Profile, names: AttributeNames): SamlPerson {
  const attributes = (profile.attributes ?? {}) as Record<string, unknown>;
  const email = firstString(attributes[names.email]) ?? (profile.nameID?.includes("@") ? profile.nameID : undefined);
  if (!email) throw new SamlRefusal("person", `no "${names.email}" attribute and the NameID is not an email address`);
  return {
    email,
    name: firstString(attributes[names.name]) ?? null,
    groups: readGroupsClaim(attributes[names.groups]),
    issuer: profile.issuer,
    subject: profile.nameID,
  };
}

function firstString(value: unknown): string | undefined {
  const first = Array.isArray(value) ? value[0] : value;
  return typeof first === "string" && first.trim() !== "" ? first.trim() : undefined;
}
