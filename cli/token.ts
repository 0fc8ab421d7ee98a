import fs from "node:fs";
import { loadConfig } from "../lib/config";
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
  if (fs.existsSync(".env")) process.loadEnvFile(".env");
  const config = loadConfig();
  if (config.oidc.issuer) throw new Error("tokens come from your identity provider: this command serves only the development IdP (OIDC_ISSUER is set)");
  if (!findSeedAgent(agentId)) throw new Error(`no seeded agent "${agentId}" (agents: ${SEED_AGENTS.map((a) => a.id).join(", ")})`);

  const secrets = readIdpSecrets(config.dataDir);
  const secret = secrets?.agentSecrets[agentId];
  if (!secret) throw new Error(`no development IdP secrets in ${config.dataDir}: start Airlock first (npm start)`);

  const issuer = readServerInfo(config.dataDir)?.issuer ?? `${config.publicUrl ?? `http://localhost:${config.port}`}/oidc`;
  const token = await clientCredentialsToken(issuer, agentId, secret);
  console.log(token);
  return 0;
}

async function clientCredentialsToken(issuer: string, clientId: string, secret: string): Promise<string> {
  const discovery = await fetchJson(`${issuer}/.well-known/openid-configuration`);
  const endpoint = discovery.token_endpoint;
  if (typeof endpoint !== "string") throw new Error(`${issuer} has no token endpoint`);
  const res = await fetch(endpoint, {
    method: "POST",
    headers: {
      authorization: `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString("base64")}`,
      "content-type": "application/x-www-form-urlencoded",
    },
    body: new URLSearchParams({ grant_type: "client_credentials" }),
    signal: AbortSignal.timeout(10_000),
  });
  const body = (await res.json()) as { access_token?: string; error?: string; error_description?: string };
  if (!res.ok || !body.access_token) throw new Error(`token request refused: ${body.error ?? res.status} ${body.error_description ?? ""}`.trim());
  return body.access_token;
}

async function fetchJson(url: string): Promise<Record<string, unknown>> {
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  } catch {
    throw new Error(`cannot reach Airlock at ${new URL(url).origin}: is it running (npm start)?`);
  }
  if (!res.ok) throw new Error(`${url} answered ${res.status}`);
  return (await res.json()) as Record<string, unknown>;
}
