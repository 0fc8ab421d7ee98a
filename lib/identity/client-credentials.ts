/**
 * OAuth 2.0 client-credentials grant (RFC 6749 §4.4) against an issuer found by discovery;
 * `resource` (RFC 8707) asks for a token for that resource rather than the client's default one.
 */
export async function requestClientCredentialsToken(issuer: string, clientId: string, secret: string, options: { resource?: string } = {}): Promise<string> {
  const discovery = await fetchJson(`${issuer}/.well-known/openid-configuration`);
  const endpoint = discovery.token_endpoint;
  if (typeof endpoint !== "string") throw new Error(`${issuer} has no token endpoint`);
  const res = await fetch(endpoint, {
    method: "POST",
    headers: {
      authorization: `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString("base64")}`,
      "content-type": "application/x-www-form-urlencoded",
    },
    body: new URLSearchParams({ grant_type: "client_credentials", ...(options.resource ? { resource: options.resource } : {}) }),
    signal: AbortSignal.timeout(10_000),
  });
  const body = (await res.json()) as { access_token?: string; error?: string; error_description?: string };
  if (!res.ok || !body.access_token) {
    throw new Error(`token request refused: ${body.error ?? res.status} ${body.error_description ?? ""}`.trim());
  }
  return body.access_token;
}

async function fetchJson(url: string): Promise<Record<string, unknown>> {
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  } catch {
    throw new Error(`cannot reach ${new URL(url).origin}: is Airlock running (npm start)?`);
  }
  if (!res.ok) throw new Error(`${url} answered ${res.status}`);
  return (await res.json()) as Record<string, unknown>;
}
