import fs from "node:fs";
import type { SamlConfig } from "../../config";
import type { Store } from "../../db/store";
import { parseIdpMetadata, readIdpMetadataSource } from "./idp-metadata";
import { OneTimeValues } from "./one-time";
import { SamlServiceProvider } from "./service-provider";

/** Airlock's SAML endpoints, below the public URL; the metadata URL is also the default entity id. */
export const SAML_PATHS = {
  metadata: "/api/auth/saml/metadata",
  acs: "/api/auth/saml/acs",
  login: "/api/auth/saml/login",
} as const;

/** People's SAML sign-in as configured, and whether the IdP is the development one. */
export interface SamlSignIn {
  sp: SamlServiceProvider;
  development: boolean;
}

/**
 * Reads the IdP's metadata (or takes the development IdP's) and sets Airlock up as its service
 * provider. Any problem stops the start with a sentence saying what to fix: a sign-in that
 * silently does not work is worse.
 */
export async function startSamlSignIn(opts: { config: SamlConfig; publicUrl: string; store: Store; devIdpMetadata?: string }): Promise<SamlSignIn> {
  const { config, publicUrl } = opts;
  const development = config.idpMetadata === "dev";
  if (development && !opts.devIdpMetadata) throw new Error("SAML_IDP_METADATA=dev needs the development SAML IdP");
  const idp = parseIdpMetadata(development ? opts.devIdpMetadata! : await readIdpMetadataSource(config.idpMetadata));
  const signing = config.signing ? { privateKey: fs.readFileSync(config.signing.keyFile, "utf8"), cert: fs.readFileSync(config.signing.certFile, "utf8") } : undefined;
  const sp = new SamlServiceProvider(
    {
      entityId: samlEntityId(config, publicUrl),
      acsUrl: `${publicUrl}${SAML_PATHS.acs}`,
      signing,
      attributes: { email: config.emailAttribute, name: config.nameAttribute, groups: config.groupsAttribute },
      binding: config.binding ?? (idp.sso.redirect ? "redirect" : "post"),
    },
    idp,
    new OneTimeValues(opts.store),
  );
  return { sp, development };
}

export function samlEntityId(config: SamlConfig, publicUrl: string): string {
  return config.entityId ?? `${publicUrl}${SAML_PATHS.metadata}`;
}
