/**
 * Issue 23, a target that cannot be reached: nobody listens on its port (refused at once), it
 * accepts and drops the connection, or it accepts and never answers (black-holed). The agent gets
 * FATAL 08006 naming the resource in bounded time, the cause is logged once per attempt (the
 * agent never sees it), and the proxy keeps serving a resource that works meanwhile. The real
 * proxy in-process, a real PostgreSQL for the resource that works.
 */
import net from "node:net";
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import pg from "pg";
import { adminQuery, startPostgres, type TestPostgres } from "../support/postgres";
import { startProxyHarness, type ProxyHarness } from "../support/proxy-harness";

/** The upstream login deadline for this file (AIRLOCK_UPSTREAM_CONNECT_TIMEOUT); the default is 10 s. */
const UPSTREAM_TIMEOUT_S = 2;
/** However the target fails, the agent hears of it within this: no hang. */
const BOUND_MS = 15_000;
const TEST_TIMEOUT = { timeout: 60_000 };

let target: TestPostgres;
const servers: net.Server[] = [];
const accepted = new Set<net.Socket>();
let harness: ProxyHarness;
/** What the process wrote to stderr while a test ran (the proxy's log lines). */
let logged: string[] = [];
const writeStderr = process.stderr.write.bind(process.stderr);

async function listen(onSocket: (socket: net.Socket) => void): Promise<number> {
  const server = net.createServer((socket) => {
    accepted.add(socket);
    socket.on("close", () => accepted.delete(socket));
    socket.on("error", () => undefined);
    onSocket(socket);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as net.AddressInfo).port;
}

/** A loopback port nobody listens on: taken from the system, then given back. */
async function closedPort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

before(async () => {
  target = await startPostgres();
  await adminQuery(target, "create table things (id int primary key); insert into things select generate_series(1, 3)");
  const upstream = (port: number) => `postgres://postgres:pw@127.0.0.1:${port}/postgres`;
  const refused = await closedPort();
  // Accepts TCP, then closes it before a byte of the login: a target restarting, or a port forward with nothing behind it.
  const dropping = await listen((socket) => socket.destroy());
  // Accepts TCP and never answers a byte: a black-holed or hung upstream, without root network tools.
  const silent = await listen((socket) => socket.on("data", () => undefined));
  harness = await startProxyHarness(
    { pg: target.url, refused: upstream(refused), dropping: upstream(dropping), silent: upstream(silent) },
    { env: { AIRLOCK_UPSTREAM_CONNECT_TIMEOUT: String(UPSTREAM_TIMEOUT_S) } },
  );
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
    logged.push(String(chunk));
    return writeStderr(chunk, ...rest);
  }) as typeof process.stderr.write;
});
after(async () => {
  process.stderr.write = writeStderr;
  await harness?.close();
  for (const socket of accepted) socket.destroy();
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  await target?.stop();
});

async function connect(resource: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: await harness.url(resource) });
  client.on("error", () => undefined);
  await client.connect();
  return client;
}

/** How long connecting to `resource` took to fail, and its error; fails the test if it takes more than BOUND_MS or succeeds. */
async function refusedWithin(resource: string): Promise<{ err: Error & { code?: string }; ms: number }> {
  const url = await harness.url(resource);
  const client = new pg.Client({ connectionString: url });
  client.on("error", () => undefined);
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`connecting to "${resource}": still waiting after ${BOUND_MS} ms`)), BOUND_MS)));
  try {
    await Promise.race([client.connect().then(() => assert.fail(`connecting to "${resource}" succeeded`)), bound]);
    throw new Error("unreachable");
  } catch (err) {
    if (/still waiting|succeeded/.test((err as Error).message)) throw err;
    return { err: err as Error & { code?: string }, ms: Date.now() - started };
  } finally {
    clearTimeout(timer);
    await client.end().catch(() => undefined);
  }
}

/**
 * The proxy's one "resource unreachable" line about `resource` since the test began, with its
 * cause. The catalog's read, which fails for the same reason, says so at most once beside it.
 */
function loggedOnce(resource: string): string {
  const lines = logged.filter((line) => line.includes("resource unreachable") && new RegExp(`\\b${resource}\\b`).test(line));
  assert.equal(lines.length, 1, `"resource unreachable" logged once for ${resource}:\n${lines.join("")}`);
  const catalog = logged.filter((line) => line.includes(`catalog of "${resource}" could not be read`));
  assert.ok(catalog.length <= 1, `the catalog's failure logged at most once:\n${catalog.join("")}`);
  return lines[0]!;
}

test("nobody listens on the target's port: refused with 08006 naming the resource, the cause logged once", TEST_TIMEOUT, async () => {
  logged = [];
  const { err, ms } = await refusedWithin("refused");
  console.log(`refused port: 08006 after ${ms} ms (${err.message})`);
  assert.equal(err.code, "08006");
  assert.match(err.message, /airlock: resource "refused" is unreachable/);
  assert.doesNotMatch(err.message, /ECONNREFUSED|127\.0\.0\.1/, "the cause is the log's, not the agent's");
  // Refused, not timed out: the deadline played no part.
  assert.match(loggedOnce("refused"), /ECONNREFUSED/);
});

test("the target accepts and drops the connection: refused with 08006, logged once", TEST_TIMEOUT, async () => {
  logged = [];
  const { err, ms } = await refusedWithin("dropping");
  console.log(`dropped connection: 08006 after ${ms} ms (${err.message})`);
  assert.equal(err.code, "08006");
  assert.match(err.message, /airlock: resource "dropping" is unreachable/);
  assert.match(loggedOnce("dropping"), /closed the connection during startup/, "it failed when the target closed, not at the deadline");
});

test("a black-holed target: 08006 once the upstream deadline passes, while another resource keeps serving", TEST_TIMEOUT, async () => {
  logged = [];
  const working = await connect("pg");
  try {
    const waiting = refusedWithin("silent");
    // While one agent waits on the black hole, the proxy serves others: the agent already in, and a new one.
    for (let i = 0; i < 5; i++) assert.equal((await working.query("select count(*)::int as n from things")).rows[0].n, 3);
    const fresh = await connect("pg");
    assert.equal((await fresh.query("select 1 as one")).rows[0].one, 1);
    await fresh.end();

    const { err, ms } = await waiting;
    console.log(`black-holed target: 08006 after ${ms} ms (${err.message})`);
    assert.equal(err.code, "08006");
    assert.match(err.message, /airlock: resource "silent" is unreachable/);
    assert.ok(ms >= UPSTREAM_TIMEOUT_S * 1000 - 100, `not before the deadline (${ms} ms)`);
    assert.match(loggedOnce("silent"), /did not finish within 2000 ms/);

    // And after it: the proxy is as healthy as before.
    assert.equal((await working.query("select count(*)::int as n from things")).rows[0].n, 3);
    const after = await connect("pg");
    assert.equal((await after.query("select 2 as two")).rows[0].two, 2);
    await after.end();
  } finally {
    await working.end();
  }
});
