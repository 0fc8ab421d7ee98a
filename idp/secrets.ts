import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { exportJWK, generateKeyPair, type JWK } from "jose";
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
  let changed = !existing;
  for (const agent of SEED_AGENTS) {
    if (!secrets.agentSecrets[agent.id]) {
      secrets.agentSecrets[agent.id] = randomSecret();
      changed = true;
    }
  }
  if (changed) writeSecretFile(idpSecretsPath(dataDir), JSON.stringify(secrets, null, 2));
  return secrets;
}

async function createSecrets(): Promise<IdpSecrets> {
  const { privateKey } = await generateKeyPair("RS256", { modulusLength: 2048, extractable: true });
  const signingKey = { ...(await exportJWK(privateKey)), alg: "RS256", use: "sig", kid: randomBytes(8).toString("hex") };
  return {
    signingKey,
    cookieKeys: [randomSecret()],
    dashboardClientSecret: randomSecret(),
    agentSecrets: {},
  };
}

function randomSecret(): string {
  return randomBytes(32).toString("base64url");
}
