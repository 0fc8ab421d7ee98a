import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { exportJWK, generateKeyPair, type JWK } from "jose";
import { sharedSecret } from "../lib/db/shared-secrets";
import type { Store } from "../lib/db/store";
import { writeSecretFile } from "../lib/secret-file";
import { SEED_AGENTS } from "./seed";

/**
 * What the development IdP must keep across restarts so that sessions and tokens stay valid:
 * its signing key, cookie keys and client secrets. Made on first start, kept in the data dir
 * (mode 0600), never in the repository.
 */
export interface IdpSecrets {
  signingKey: JWK;
  cookieKeys: string[];
  dashboardClientSecret: string;
  agentSecrets: Record<string, string>;
}

export const IDP_SECRETS_FILE = "idp-secrets.json";

export function idpSecretsPath(dataDir: string): string {
  return path.join(dataDir, IDP_SECRETS_FILE);
}

export function readIdpSecrets(dataDir: string): IdpSecrets | undefined {
  const file = idpSecretsPath(dataDir);
  if (!fs.existsSync(file)) return undefined;
  return JSON.parse(fs.readFileSync(file, "utf8")) as IdpSecrets;
}

export async function loadOrCreateIdpSecrets(dataDir: string): Promise<IdpSecrets> {
  const existing = readIdpSecrets(dataDir);
  const secrets = existing ?? (await createSecrets());
  // Agents added to the seed after the first start get a secret too.
  const changed = withSeedAgents(secrets) || !existing;
  if (changed) writeSecretFile(idpSecretsPath(dataDir), JSON.stringify(secrets, null, 2));
  return secrets;
}

/**
 * The secrets every instance on the store shares (lib/db/shared-secrets.ts): each instance's IdP
 * signs and checks alike, whichever one a person or an agent reaches. Also kept in this data dir,
 * where `airlock token` reads the agents' secrets.
 */
export async function sharedIdpSecrets(store: Store, dataDir: string): Promise<IdpSecrets> {
  if (store.dialect === "sqlite") return loadOrCreateIdpSecrets(dataDir);
  const fresh = async () => {
    const secrets = await createSecrets();
    withSeedAgents(secrets);
    return JSON.stringify(secrets, null, 2);
  };
  const shared = await sharedSecret(store, IDP_SECRETS_FILE, { local: fresh, fresh });
  writeSecretFile(idpSecretsPath(dataDir), shared);
  return JSON.parse(shared) as IdpSecrets;
}

/** Gives every seeded agent a secret; whether one was missing. */
function withSeedAgents(secrets: IdpSecrets): boolean {
  let changed = false;
  for (const agent of SEED_AGENTS) {
    if (!secrets.agentSecrets[agent.id]) {
      secrets.agentSecrets[agent.id] = randomSecret();
      changed = true;
    }
  }
  return changed;
}

async function createSecrets(): Promise<IdpSecrets> {
  return {
    signingKey: await createSigningKey(),
    cookieKeys: [randomSecret()],
    dashboardClientSecret: randomSecret(),
    agentSecrets: {},
  };
}

/** A fresh RS256 private key as a JWK with its kid, as oidc-provider's `jwks` takes it. */
export async function createSigningKey(): Promise<JWK> {
  const { privateKey } = await generateKeyPair("RS256", { modulusLength: 2048, extractable: true });
  return { ...(await exportJWK(privateKey)), alg: "RS256", use: "sig", kid: randomBytes(8).toString("hex") };
}

function randomSecret(): string {
  return randomBytes(32).toString("base64url");
}
