import { generateKeyPairSync } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { sharedSecret } from "../../lib/db/shared-secrets";
import type { Store } from "../../lib/db/store";
import { writeSecretFile } from "../../lib/secret-file";
import { selfSignedCert } from "./self-signed-cert";

/** The development SAML IdP's signing key and its certificate, PEM. */
export interface SamlIdpKey {
  privateKey: string;
  cert: string;
}

export const SAML_IDP_KEY_FILE = "saml-idp-key.json";
/** Long enough never to expire under a demo; it signs only for the seeded people. */
const CERT_DAYS = 10 * 365;

/**
 * Made on first start and kept in the data dir (mode 0600), so the IdP's certificate, and so
 * Airlock's trust in it, survive restarts; on a PostgreSQL store every instance shares one, as
 * they share the OIDC IdP's keys (idp/secrets.ts).
 */
export async function sharedSamlIdpKey(store: Store, dataDir: string): Promise<SamlIdpKey> {
  const file = path.join(dataDir, SAML_IDP_KEY_FILE);
  const local = () => {
    if (fs.existsSync(file)) return fs.readFileSync(file, "utf8");
    const made = JSON.stringify(createSamlIdpKey(), null, 2);
    writeSecretFile(file, made);
    return made;
  };
  const shared = await sharedSecret(store, SAML_IDP_KEY_FILE, { local, fresh: () => JSON.stringify(createSamlIdpKey(), null, 2) });
  if (store.dialect !== "sqlite") writeSecretFile(file, shared);
  return JSON.parse(shared) as SamlIdpKey;
}

export function createSamlIdpKey(commonName = "Airlock development SAML IdP"): SamlIdpKey {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return { privateKey: privateKey.export({ type: "pkcs8", format: "pem" }).toString(), cert: selfSignedCert(privateKey, commonName, CERT_DAYS) };
}
