import { countBackends, openIdleConnections, waitForBackends } from "./idle-connections";
import { readMemory, resetPeak, sampleMemory } from "./memory";
import type { Target } from "./pgbench";
import { streamSlowly } from "./slow-reader";
import { mb, sleep, verdict } from "./report";

/** What every phase needs: where PostgreSQL and the proxy are, and which process is the proxy. */
export interface Setup {
  seconds: number;
  direct: Target;
  /** The proxy, as the agent: its id as user, its token as password, the resource as database. */
  proxied: Target;
  proxyPid: number;
  /** Superuser URL of the benchmark database, to watch its backends. */
  postgresUrl: string;
  idleConnections: number;
}

const MAX_RSS_WITH_IDLE_MB = 100;
const MAX_STREAM_GROWTH_MB = 50;
const STREAM_ROWS = 1_000_000;
const STREAM_SQL = `select repeat('x', 1000) from generate_series(1, ${STREAM_ROWS})`;
/** Each row: 'D', Int32 length, Int16 column count, Int32 value length, 1000 bytes. */
const STREAM_ROW_BYTES = 1 + 4 + 2 + 4 + 1000;
/** The slow reader's pace; BENCH_STREAM_MBPS changes it (0: as fast as it can). */
const STREAM_BYTES_PER_SECOND = (Number(process.env.BENCH_STREAM_MBPS || 150) || Infinity) * 1024 * 1024;
const WARM_UP_CONNECTIONS = 100;
/** Lets garbage collection and socket teardown settle before a memory reading. */
export const SETTLE_MS = 2000;

/** The proxy's RSS at rest, then holding many logged-in, idle agent connections. */
export async function measureIdleConnections(setup: Setup): Promise<void> {
  const open = (count: number) =>
    openIdleConnections({ port: setup.proxied.port, user: setup.proxied.user, token: setup.proxied.password, database: setup.proxied.database, count, concurrency: 50 });
  // Warm-up: the login path runs once per connection (token check, JWKS, SCRAM upstream).
  for (const client of await open(WARM_UP_CONNECTIONS)) client.close();
  await waitForBackends(setup.postgresUrl, setup.direct.database, 0);
  await sleep(SETTLE_MS);
  const idle = readMemory(setup.proxyPid).rssMb;
  resetPeak(setup.proxyPid);
  const started = performance.now();
  const clients = await open(setup.idleConnections);
  const openSeconds = (performance.now() - started) / 1000;
  try {
    await sleep(SETTLE_MS);
    const loaded = readMemory(setup.proxyPid);
    const stillOpen = clients.filter((c) => !c.closed).length;
    const backends = await countBackends(setup.postgresUrl, setup.direct.database);
    const perConnectionKb = ((loaded.rssMb - idle) * 1024) / setup.idleConnections;
    console.log(`opened ${clients.length} agent connections in ${openSeconds.toFixed(1)} s (50 at a time); ${stillOpen} still open, ${backends} upstream backends on PostgreSQL`);
    console.log(`proxy RSS idle (after ${WARM_UP_CONNECTIONS} warm-up logins): ${mb(idle)}`);
    console.log(`proxy RSS with ${setup.idleConnections} idle connections:   ${mb(loaded.rssMb)}   ${verdict(loaded.rssMb <= MAX_RSS_WITH_IDLE_MB, `≤ ${MAX_RSS_WITH_IDLE_MB} MB`)}`);
    console.log(`proxy peak RSS while they opened:      ${mb(loaded.peakMb)}`);
    console.log(`cost per idle connection:              ${perConnectionKb.toFixed(1)} KB`);
  } finally {
    for (const client of clients) client.close();
  }
  const left = await waitForBackends(setup.postgresUrl, setup.direct.database, 0);
  console.log(`after closing them: ${left} upstream backends left, proxy RSS ${mb(readMemory(setup.proxyPid).rssMb)}`);
}

/** One ~1 GB result read at a fixed slow pace, the proxy's RSS sampled every 100 ms meanwhile. */
export async function measureStream(setup: Setup): Promise<void> {
  await sleep(SETTLE_MS);
  const baseline = readMemory(setup.proxyPid).rssMb;
  const exactPeak = resetPeak(setup.proxyPid);
  const sampler = sampleMemory(setup.proxyPid, 100);
  const result = await streamSlowly({
    port: setup.proxied.port,
    user: setup.proxied.user,
    token: setup.proxied.password,
    database: setup.proxied.database,
    sql: STREAM_SQL,
    bytesPerSecond: STREAM_BYTES_PER_SECOND,
  }).catch((err: unknown) => {
    sampler.stop();
    throw err;
  });
  const sampled = sampler.stop();
  const peak = Math.max(sampled.maxRssMb, exactPeak ? readMemory(setup.proxyPid).peakMb : 0);
  const growth = peak - baseline;
  const complete = result.rows === STREAM_ROWS && result.rowBytes === STREAM_ROWS * STREAM_ROW_BYTES && result.tag === `SELECT ${STREAM_ROWS}`;
  const rate = result.bytes / 1024 / 1024 / result.seconds;
  console.log(`query: ${STREAM_SQL}; reader ${Number.isFinite(STREAM_BYTES_PER_SECOND) ? `paced at ${STREAM_BYTES_PER_SECOND / 1024 / 1024} MB/s` : "unpaced"}`);
  console.log(`received ${result.bytes.toLocaleString("en")} bytes (${result.rows.toLocaleString("en")} rows, "${result.tag}") in ${result.seconds.toFixed(1)} s = ${rate.toFixed(0)} MB/s — ${complete ? "complete" : "INCOMPLETE"}`);
  console.log(`proxy RSS baseline ${mb(baseline)}, peak ${mb(peak)} (${sampled.samples} samples${exactPeak ? " and VmHWM" : ""}), growth ${mb(growth)}   ${verdict(growth <= MAX_STREAM_GROWTH_MB, `growth ≤ ${MAX_STREAM_GROWTH_MB} MB`)}`);
  if (!complete) throw new Error(`the result was not received whole: ${result.rows} rows, ${result.rowBytes} row bytes, tag "${result.tag}"`);
}
