import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { AGENT_TOKEN_TTL_SECONDS } from "../../idp/provider";
import { ALLOW_EVERYTHING, startProxyHarness } from "../../test/support/proxy-harness";

export const AGENT = "reporting-agent";

/**
 * The databases pg_regress reaches, each a resource of the same name: it drops and creates
 * `regression` while connected to `postgres`, then runs every test in `regression`.
 */
const DATABASES = ["postgres", "regression"];

export interface AirlockForRegress {
  port: number;
  /** PGPASSFILE for the agent, kept holding a fresh token while the proxy runs. */
  passfile: string;
  close(): Promise<void>;
}

/**
 * The real proxy in front of `upstreamUrl` (the throwaway server's superuser, whose credentials
 * only Airlock holds) with a policy allowing every kind of statement.
 */
export async function startAirlock(upstreamUrl: string, dir: string): Promise<AirlockForRegress> {
  const resources = Object.fromEntries(DATABASES.map((db) => [db, withDatabase(upstreamUrl, db)]));
  const harness = await startProxyHarness(resources, { rules: ALLOW_EVERYTHING });
  const port = harness.proxy.port;
  const passfile = path.join(dir, "pgpass");
  // libpq reads the passfile at every connection, so renewing it renews the token for each new
  // psql; a session outlives its token only if one test runs longer than a token lives.
  const renew = async () => writePassfile(passfile, `127.0.0.1:${port}:*:${AGENT}:${await harness.idp.token(AGENT)}\n`);
  await renew();
  const timer = setInterval(() => renew().catch((err: unknown) => console.error("[regress] token renewal failed", err)), (AGENT_TOKEN_TTL_SECONDS * 1000) / 3);
  return {
    port,
    passfile,
    async close() {
      clearInterval(timer);
      await harness.close();
    },
  };
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/** Replaced by rename so psql never reads half a file; libpq ignores a passfile others can read. */
function writePassfile(file: string, content: string): void {
  const next = `${file}.next`;
  fs.writeFileSync(next, content, { mode: 0o600 });
  if (process.getuid?.() === 0) execFileSync("chown", ["postgres:postgres", next]);
  fs.renameSync(next, file);
}
