import { execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { freePort } from "../../test/support/postgres";
import { makeTempDir } from "../../test/support/temp-dir";
import type { Target } from "./pgbench";

/** Where the Debian package puts it; PATH is searched too. */
const CANDIDATES = ["/usr/sbin/pgbouncer", "/usr/bin/pgbouncer", "/usr/local/bin/pgbouncer"];
export const PGBOUNCER_INSTALL_HINT = "apt-get install pgbouncer";
const START_TIMEOUT_MS = 15_000;

export interface Pgbouncer {
  pid: number;
  /** Where pgbench connects: pgbouncer, as the same PostgreSQL user and database. */
  target: Target;
  version: string;
  stop(): Promise<void>;
}

export function findPgbouncer(): string | undefined {
  const onPath = (process.env.PATH ?? "").split(":").filter(Boolean).map((dir) => path.join(dir, "pgbouncer"));
  return [...CANDIDATES, ...onPath].find((file) => {
    try {
      fs.accessSync(file, fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/**
 * pgbouncer in session mode in front of one database, as a child process (foreground, so its pid
 * is the process whose CPU we read), on a free loopback port, with its ini and userlist in a temp
 * dir removed by stop(). Clients authenticate with SCRAM as the database's own user, as agents do
 * against Airlock, and pgbouncer logs in upstream with the same password.
 */
export async function startPgbouncer(binary: string, upstream: Target): Promise<Pgbouncer> {
  const dir = makeTempDir("pgbouncer");
  const port = await freePort();
  const ini = path.join(dir.path, "pgbouncer.ini");
  const userlist = path.join(dir.path, "userlist.txt");
  const quote = (s: string) => `"${s.replace(/"/g, '""')}"`;
  fs.writeFileSync(userlist, `${quote(upstream.user)} ${quote(upstream.password)}\n`);
  const root = process.getuid?.() === 0;
  fs.writeFileSync(
    ini,
    [
      "[databases]",
      `${upstream.database} = host=${upstream.host} port=${upstream.port} dbname=${upstream.database}`,
      "[pgbouncer]",
      "listen_addr = 127.0.0.1",
      `listen_port = ${port}`,
      "unix_socket_dir =",
      "auth_type = scram-sha-256",
      `auth_file = ${userlist}`,
      "pool_mode = session",
      "max_client_conn = 200",
      "default_pool_size = 50",
      // Quiet: a log line per connection would be CPU that is not the proxying we measure.
      "log_connections = 0",
      "log_disconnections = 0",
      "stats_period = 3600",
      // pgbouncer refuses to run as root; it drops to this user after reading its files.
      ...(root ? ["user = postgres"] : []),
      "",
    ].join("\n"),
  );
  // Readable by the postgres user it switches to (a throwaway test password, nothing more).
  fs.chmodSync(dir.path, 0o755);
  for (const file of [ini, userlist]) fs.chmodSync(file, 0o644);

  const child = spawn(binary, [ini], { stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  const keep = (chunk: Buffer) => (log = (log + chunk.toString()).slice(-4000));
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(timer);
    }
    dir.remove();
  };
  try {
    await waitForPort(port, () => (child.exitCode !== null ? `pgbouncer exited (code ${child.exitCode}):\n${log}` : undefined));
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    pid: child.pid!,
    target: { ...upstream, host: "127.0.0.1", port },
    version: pgbouncerVersion(binary),
    stop,
  };
}

function pgbouncerVersion(binary: string): string {
  try {
    const out = execFileSync(binary, ["--version"], { encoding: "utf8" });
    return /PgBouncer ([\d.]+)/.exec(out)?.[1] ?? "unknown";
  } catch {
    return "unknown";
  }
}

/** Resolves once something accepts connections on the port; `failed` explains an early exit. */
async function waitForPort(port: number, failed: () => string | undefined): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    const why = failed();
    if (why) throw new Error(why);
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, "127.0.0.1");
      socket.once("connect", () => (socket.destroy(), resolve(true)));
      socket.once("error", () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`pgbouncer did not listen on port ${port} within ${START_TIMEOUT_MS / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
