/**
 * `npm run cluster`: two Airlock instances on one PostgreSQL store, on this machine, without
 * Docker — the recipe of docs/deployment.md, "Running more than one instance". The store is
 * AIRLOCK_STORE_URL when set, else a PostgreSQL started here for the run (Debian's binaries, as
 * `npm test` uses; gone when the cluster stops). Instance A serves on 3000 (proxy 6432), B on
 * 3001 (6433); agents use A's development IdP on both. Ctrl-C stops everything.
 */
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { startPostgres, type TestPostgres } from "../test/support/postgres";
import { createStoreDatabase } from "../test/support/store";
import { buildIfNeeded } from "./build-if-needed";

const INSTANCES = [
  { name: "a", port: 3000, proxyPort: 6432 },
  { name: "b", port: 3001, proxyPort: 6433 },
];

async function main(): Promise<void> {
  const local = process.env.AIRLOCK_STORE_URL ? undefined : await startLocalStore();
  const storeUrl = process.env.AIRLOCK_STORE_URL ?? local!.url;
  buildIfNeeded();
  const issuer = process.env.AGENT_OIDC_ISSUER ?? `http://localhost:${INSTANCES[0].port}/oidc`;
  const children: ChildProcess[] = [];
  const stop = () => {
    for (const child of children) child.kill("SIGTERM");
    void Promise.all(children.map((child) => new Promise((resolve) => child.once("exit", resolve)))).then(async () => {
      await local?.server.stop();
      process.exit(0);
    });
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);

  for (const [i, instance] of INSTANCES.entries()) {
    const child = spawn(process.execPath, ["--import", "tsx", "scripts/start.ts"], {
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        ...process.env,
        AIRLOCK_STORE_URL: storeUrl,
        AIRLOCK_INSTANCE_NAME: `instance-${instance.name}`,
        AIRLOCK_DATA_DIR: path.resolve(process.env.AIRLOCK_DATA_DIR ?? "data", "cluster", instance.name),
        AIRLOCK_PORT: String(instance.port),
        AIRLOCK_PROXY_PORT: String(instance.proxyPort),
        // One issuer for agents everywhere: A's development IdP unless one is configured.
        ...(i > 0 && !process.env.OIDC_ISSUER ? { AGENT_OIDC_ISSUER: issuer } : {}),
      },
    });
    const prefix = `[${instance.name}] `;
    child.stdout!.on("data", (chunk: Buffer) => process.stdout.write(prefixed(prefix, chunk)));
    child.stderr!.on("data", (chunk: Buffer) => process.stderr.write(prefixed(prefix, chunk)));
    child.once("exit", (code) => console.log(`${prefix}exited (${code ?? "signal"})`));
    children.push(child);
    // A first, so B's agents find A's issuer answering; B starts as soon as A's banner is out.
    if (i === 0) await banner(child);
  }
  console.log(`\nAirlock cluster: ${INSTANCES.map((x) => `instance-${x.name} http://localhost:${x.port} (proxy ${x.proxyPort})`).join(", ")}`);
  console.log(`store ${local ? "a PostgreSQL started for this run (set AIRLOCK_STORE_URL to keep one)" : "AIRLOCK_STORE_URL"}; agents' tokens from ${issuer}. Ctrl-C stops it.`);
}

/** A PostgreSQL for this run, with an empty database for the store. */
async function startLocalStore(): Promise<{ server: TestPostgres; url: string }> {
  const server = await startPostgres();
  return { server, url: await createStoreDatabase(server) };
}

function banner(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = "";
    const onData = (chunk: Buffer) => {
      seen += chunk.toString();
      if (/Dashboard\s+\S+/.test(seen)) {
        child.stdout!.off("data", onData);
        resolve();
      }
    };
    child.stdout!.on("data", onData);
    child.once("exit", (code) => reject(new Error(`the first instance exited (${code}) before it was ready`)));
  });
}

function prefixed(prefix: string, chunk: Buffer): string {
  return chunk
    .toString()
    .split(/(?<=\n)/)
    .map((line) => prefix + line)
    .join("");
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
