import { loadConfig, loadDotEnv } from "../lib/config";
import { requestClientCredentialsToken } from "../lib/identity/client-credentials";
import { readServerInfo } from "../lib/server-info";
import { readIdpSecrets } from "../idp/secrets";
import { SEED_AGENTS, findSeedAgent } from "../idp/seed";

/** `airlock token <agent>`: the OAuth client-credentials grant against the development IdP. */
export async function tokenCommand(args: string[]): Promise<number> {
  const agentId = args[0];
  if (!agentId || args.length > 1) {
    console.error(`usage: airlock token <agent>   (agents: ${SEED_AGENTS.map((a) => a.id).join(", ")})`);
    return 2;
  }
  console.log(await developmentToken(agentId));
  return 0;
}

/** A fresh token for a seeded agent from the running development IdP. */
export async function developmentToken(agentId: string): Promise<string> {
  loadDotEnv();
  const config = loadConfig();
  if (config.oidc.issuer) throw new Error("tokens come from your identity provider: this command serves only the development IdP (OIDC_ISSUER is set)");
  if (!findSeedAgent(agentId)) throw new Error(`no seeded agent "${agentId}" (agents: ${SEED_AGENTS.map((a) => a.id).join(", ")})`);

  const secrets = readIdpSecrets(config.dataDir);
  const secret = secrets?.agentSecrets[agentId];
  if (!secret) throw new Error(`no development IdP secrets in ${config.dataDir}: start Airlock first (npm start)`);

  // An explicit URL wins; otherwise the running server's own record of where it listens.
  const issuer = config.publicUrl ? `${config.publicUrl}/oidc` : (readServerInfo(config.dataDir)?.issuer ?? `http://localhost:${config.port}/oidc`);
  return requestClientCredentialsToken(issuer, agentId, secret);
}
