/**
 * Issue 23, the agents' identity provider cannot be reached: its port refuses connections, it
 * accepts and never answers, or a load balancer in front of it answers 503. Agents whose token's
 * key (`kid`) Airlock already holds keep connecting; a token signed with a key Airlock has not
 * fetched (a key rotated in during the outage) is refused in bounded time with FATAL 28P01 saying
 * the keys could not be fetched; once the IdP is back, serving the rotated key, that token works
 * with no restart of Airlock. The real development IdP (oidc-provider) behind a switch the test
 * flips, the real proxy in-process, a real PostgreSQL as the resource.
 */
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { importJWK, SignJWT, type JWK } from "jose";
import pg from "pg";
import { createDevIdp, type DevIdp } from "../../idp/provider";
import { loadOrCreateIdpSecrets, type IdpSecrets } from "../../idp/secrets";
import { loadConfig } from "../../lib/config";
import { openStore, type Store } from "../../lib/db/client";
import { EventBus } from "../../lib/events/bus";
import { requestClientCredentialsToken } from "../../lib/identity/client-credentials";
import { parsePolicy } from "../../lib/policy/policy-file";
import { startConfiguredProxy, type ConfiguredProxy } from "../../proxy/configured-proxy";
import { startPostgres, type TestPostgres } from "../support/postgres";
import { ALLOW_EVERYTHING } from "../support/proxy-harness";
import { makeTempDir } from "../support/temp-dir";

/** However the IdP fails, the agent hears within this (jose gives a key fetch 5 s). */
const BOUND_MS = 15_000;
const TEST_TIMEOUT = { timeout: 60_000 };
const AGENT = "reporting-agent";
/**
 * jose fetches the keys again for an unknown `kid` at most once per 30 s after a fetch that
 * worked (its cooldown). Rather than wait that out, Date.now() runs this far ahead once the
 * first keys are held: the IdP's outage then begins "31 s" after Airlock last read its keys.
 */
const PAST_COOLDOWN_MS = 31_000;

type Mode = "up" | "refused" | "hang" | "503";

/** The development IdP on a loopback port, switched by the test: answering, refusing connections, hung, or 503. */
class SwitchedIdp {
  mode: Mode = "up";
  provider!: DevIdp;
  readonly #hung = new Set<ServerResponse>();
  readonly #server = createServer((req, res) => {
    if (this.mode === "up") this.provider.handle(req, res);
    else if (this.mode === "503") res.writeHead(503, { "content-type": "text/plain" }).end("down for maintenance");
    else this.#hung.add(res); // never answered
  });
  port = 0;
  get issuer() {
    return `http://127.0.0.1:${this.port}/oidc`;
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once("error", reject);
      this.#server.listen(this.port, "127.0.0.1", () => {
        this.#server.off("error", reject);
        resolve();
      });
    });
    this.port = (this.#server.address() as AddressInfo).port;
  }

  /** Runs the real IdP with these keys (a restart with a rotated signing key, when they change). */
  serve(secrets: IdpSecrets): void {
    this.provider = createDevIdp({ issuer: this.issuer, audience: "airlock", dashboardRedirectUri: "http://airlock.test/cb", postLogoutRedirectUri: "http://airlock.test/", secrets });
  }

  async set(mode: Mode): Promise<void> {
    const wasRefusing = this.mode === "refused";
    this.mode = mode;
    this.#endHung();
    if (mode === "refused") {
      // Nothing listens on its port any more, and kept-alive connections to it are gone.
      await new Promise<void>((resolve) => {
        this.#server.close(() => resolve());
        this.#server.closeAllConnections();
      });
    } else if (wasRefusing) await this.listen();
  }

  async close(): Promise<void> {
    this.#endHung();
    if (this.mode === "refused") return;
    this.#server.closeAllConnections();
    await new Promise((resolve) => this.#server.close(resolve));
  }

  #endHung(): void {
    for (const res of this.#hung) res.socket?.destroy();
    this.#hung.clear();
  }
}

const idp = new SwitchedIdp();
const dirs = [makeTempDir("idp-a"), makeTempDir("idp-b"), makeTempDir("idp-proxy")];
let original: IdpSecrets;
let rotated: IdpSecrets;
let target: TestPostgres;
let store: Store;
let bus: EventBus;
let proxy: ConfiguredProxy;
const realNow = Date.now.bind(Date);

before(async () => {
  [original, rotated, target] = await Promise.all([loadOrCreateIdpSecrets(dirs[0]!.path), loadOrCreateIdpSecrets(dirs[1]!.path), startPostgres()]);
  assert.notEqual(original.signingKey.kid, rotated.signingKey.kid);
  await idp.listen();
  idp.serve(original);
  const dataDir = dirs[2]!.path;
  const config = loadConfig({ AIRLOCK_DATA_DIR: dataDir, AIRLOCK_PROXY_PORT: "0" });
  store = await openStore({ dataDir, migrationsFolder: "drizzle" });
  const policy = parsePolicy([`resources:`, `  pg: { type: postgres, url: ${JSON.stringify(target.url)} }`, ALLOW_EVERYTHING].join("\n"));
  bus = new EventBus();
  proxy = await startConfiguredProxy({ config, store, policy: () => policy, agentIssuer: idp.issuer, publicUrl: "http://airlock.test", bus });
});
after(async () => {
  Date.now = realNow;
  await proxy?.close();
  bus?.close();
  await store?.close();
  await idp.close();
  await target?.stop();
  for (const dir of dirs) dir.remove();
});

/** A real token from the IdP as it runs now (client-credentials grant). */
function issuedToken(secrets: IdpSecrets): Promise<string> {
  return requestClientCredentialsToken(idp.issuer, AGENT, secrets.agentSecrets[AGENT]!);
}

/** A token as the IdP signs them with `secrets`' key, made without asking it (it may be down). */
async function signedToken(secrets: IdpSecrets): Promise<string> {
  const jwk = secrets.signingKey as JWK;
  return new SignJWT({ groups: ["agents", "analytics"], client_id: AGENT })
    .setProtectedHeader({ alg: "RS256", kid: jwk.kid })
    .setSubject(AGENT)
    .setIssuer(idp.issuer)
    .setAudience("airlock")
    .setIssuedAt()
    .setExpirationTime("10m")
    .sign(await importJWK(jwk, "RS256"));
}

/** Connects with `token` and runs a statement, or fails the test if that takes more than BOUND_MS. */
async function attempt(token: string, label: string): Promise<{ ok: true } | { ok: false; err: Error & { code?: string }; ms: number }> {
  const client = new pg.Client({ host: "127.0.0.1", port: proxy.server.port, user: AGENT, password: token, database: "pg" });
  client.on("error", () => undefined);
  const started = realNow();
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${label}: still waiting after ${BOUND_MS} ms`)), BOUND_MS)));
  try {
    const run = client.connect().then(() => client.query("select 1 as one"));
    const result = await Promise.race([run, bound]);
    assert.equal(result.rows[0].one, 1);
    return { ok: true };
  } catch (err) {
    if ((err as Error).message.startsWith(`${label}:`)) throw err;
    return { ok: false, err: err as Error & { code?: string }, ms: realNow() - started };
  } finally {
    clearTimeout(timer);
    await client.end().catch(() => undefined);
  }
}

async function connects(token: string, label: string): Promise<void> {
  const result = await attempt(token, label);
  assert.ok(result.ok, `${label}: ${result.ok ? "" : `${result.err.code} ${result.err.message}`}`);
}

async function refusedForKeys(token: string, label: string): Promise<number> {
  const result = await attempt(token, label);
  assert.ok(!result.ok, `${label}: connected`);
  console.log(`${label}: ${result.err.code} after ${result.ms} ms (${result.err.message})`);
  assert.equal(result.err.code, "28P01", `${label}: ${result.err.message}`);
  assert.match(result.err.message, /identity provider is unreachable \(its signing keys could not be fetched/, label);
  return result.ms;
}

test("the IdP down when Airlock first needs its keys: refused as unreachable, and fine once it answers (no failure kept)", TEST_TIMEOUT, async () => {
  const token = await issuedToken(original);
  await idp.set("refused");
  await refusedForKeys(token, "first agent, IdP refusing connections");
  await idp.set("up");
  await connects(token, "first agent, IdP back");
});

test("the IdP refuses connections, hangs, or answers 503: held keys still work; a rotated-in key is refused in bounded time; after the IdP is back with it, it works", TEST_TIMEOUT, async () => {
  const cached = await issuedToken(original);
  await connects(cached, "agent whose key is held");
  // From here on, Airlock's last fetch of the keys is older than jose's cooldown (see PAST_COOLDOWN_MS).
  Date.now = () => realNow() + PAST_COOLDOWN_MS;
  const newKid = await signedToken(rotated);

  for (const mode of ["refused", "hang", "503"] as const) {
    await idp.set(mode);
    // Asked while the new key's fetch is pending (hang): verifying a held key waits on nothing.
    const refusal = refusedForKeys(newKid, `token with a key not yet fetched, IdP ${mode}`);
    await connects(cached, `agent whose key is held, IdP ${mode}`);
    await connects(await signedToken(original), `a new token with the held key, IdP ${mode}`);
    await refusal;
    // Asked again: the failure was not kept, the fetch is tried again (and fails again).
    await refusedForKeys(newKid, `the same token again, IdP ${mode}`);
  }

  // The IdP comes back having rotated its key: the new kid is fetched at its first use, no restart.
  await idp.set("up");
  idp.serve(rotated);
  await connects(newKid, "token with the rotated key, IdP back");
  await connects(await issuedToken(rotated), "a token the restarted IdP issues");
});
