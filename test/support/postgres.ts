import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import { createServer } from "node:net";
import path from "node:path";
import pg from "pg";
import { findPostgresBin } from "../../scripts/postgres-bin.mjs";
import { makeTempDir } from "./temp-dir";

export interface TestPostgres {
  port: number;
  /** Superuser URL, password (SCRAM-SHA-256) authentication over TCP. */
  url: string;
  user: string;
  password: string;
  dataDir: string;
  /** Stops the server and removes its temp dir. */
  stop(): Promise<void>;
  /** Stops the server (`-m fast`: sessions are told 57P01) and keeps its data dir and port, for start() to bring it back (fault tests). */
  shutDown(): Promise<void>;
  /** Starts a server shutDown() stopped, on the same port with the same data. */
  start(): Promise<void>;
}

const SUPERUSER = "postgres";
const PASSWORD = "airlock-test-pw";

/**
 * A real PostgreSQL server for one test file: initdb and pg_ctl as the `postgres` user (the
 * server refuses to run as root), on a free loopback port, in a temp dir removed by stop().
 */
export async function startPostgres(options: { auth?: "scram-sha-256" | "md5" | "password"; maxConnections?: number } = {}): Promise<TestPostgres> {
  const bin = postgresBin();
  const temp = makeTempDir("pg");
  const dataDir = path.join(temp.path, "data");
  const runAs = asPostgresUser(temp.path);
  const pwfile = path.join(temp.path, "pwfile");
  fs.writeFileSync(pwfile, PASSWORD);
  runAs.chown(pwfile);

  const auth = options.auth ?? "scram-sha-256";
  runAs.exec(path.join(bin, "initdb"), [
    "-D", dataDir, "-U", SUPERUSER, `--pwfile=${pwfile}`, "--auth-local=trust", `--auth-host=${auth}`,
    "--encoding=UTF8", "--locale=C", "--no-sync",
  ]);
  const port = await freePort();
  const settings = [
    `-p ${port}`, "-c listen_addresses=127.0.0.1", `-c unix_socket_directories=${temp.path}`, "-c fsync=off",
    `-c max_connections=${options.maxConnections ?? 200}`, `-c password_encryption=${auth === "md5" ? "md5" : "scram-sha-256"}`,
  ].join(" ");
  // -l: without a log file the server would hold spawnSync's pipes open, and spawnSync would wait for it.
  const start = () => runAs.exec(path.join(bin, "pg_ctl"), ["-D", dataDir, "-o", settings, "-l", path.join(temp.path, "log"), "-w", "-t", "60", "start"]);
  start();
  if (auth === "md5") {
    // initdb stored the password as SCRAM, with which the server would quietly use SCRAM instead.
    runAs.exec(path.join(bin, "psql"), ["-h", temp.path, "-p", String(port), "-U", SUPERUSER, "-d", "postgres", "-c",
      `set password_encryption = 'md5'; alter user ${SUPERUSER} password '${PASSWORD}'`]);
  }

  return {
    port,
    url: `postgres://${SUPERUSER}:${PASSWORD}@127.0.0.1:${port}/postgres`,
    user: SUPERUSER,
    password: PASSWORD,
    dataDir,
    async stop() {
      const [cmd, ...pre] = runAs.command(path.join(bin, "pg_ctl"));
      spawnSync(cmd, [...pre, "-D", dataDir, "-m", "immediate", "-w", "stop"], { stdio: "ignore" });
      temp.remove();
    },
    async shutDown() {
      runAs.exec(path.join(bin, "pg_ctl"), ["-D", dataDir, "-m", "fast", "-w", "-t", "60", "stop"]);
    },
    async start() {
      start();
    },
  };
}

/** Runs `sql` as the superuser on the server's `postgres` database: a table for agents to change, a database for a store. */
export async function adminQuery(server: TestPostgres, sql: string): Promise<void> {
  const admin = new pg.Client({ connectionString: server.url });
  await admin.connect();
  try {
    await admin.query(sql);
  } finally {
    await admin.end();
  }
}

function postgresBin(): string {
  const bin = findPostgresBin();
  if (!bin) throw new Error("PostgreSQL server binaries not found under /usr/lib/postgresql: run `npm test` (its pretest installs them) or `apt-get install postgresql`");
  return bin;
}

/** PostgreSQL will not run as root; as root we hand the dir to `postgres` and run through runuser. */
function asPostgresUser(dir: string) {
  const root = process.getuid?.() === 0;
  if (root) execFileSync("chown", ["postgres:postgres", dir]);
  const command = (file: string) => (root ? ["runuser", "-u", "postgres", "--", file] : [file]);
  return {
    command,
    chown(file: string) {
      if (root) execFileSync("chown", ["postgres:postgres", file]);
    },
    exec(file: string, args: string[]) {
      const [cmd, ...pre] = command(file);
      const result = spawnSync(cmd, [...pre, ...args], { encoding: "utf8" });
      if (result.status !== 0) throw new Error(`${path.basename(file)} failed: ${result.stderr || result.stdout}`);
    },
  };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
