import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { writeQuery } from "../../proxy/protocol/writer";
import { answersUntilReady, errorsOf } from "../policy/wire";
import { startPostgres, type TestPostgres } from "../support/postgres";
import { startProxyHarness, type ProxyHarness } from "../support/proxy-harness";
import { RawWireClient } from "../support/raw-wire-client";

const MiB = 1024 * 1024;
let server: TestPostgres;
let harness: ProxyHarness;

before(async () => {
  server = await startPostgres();
  harness = await startProxyHarness({ pg: server.url }, { env: { AIRLOCK_MAX_STATEMENT_BYTES: "4MB", AIRLOCK_MAX_BUFFERED_BYTES_PER_AGENT: "1MB" } });
});
after(async () => {
  for (let i = 0; i < 100 && harness.live.size > 0; i++) await new Promise((r) => setTimeout(r, 20));
  await harness.close();
  await server.stop();
});

async function loggedIn(agent = "reporting-agent"): Promise<RawWireClient> {
  // The token first: the startup clock runs from the connection.
  const token = await harness.idp.token(agent);
  const raw = await RawWireClient.connect(harness.proxy.port);
  await raw.login(agent, "pg", token);
  return raw;
}

/** A message's header alone: its type and a length word announcing `bytes` (type byte included). */
function header(type: string, bytes: number): Buffer {
  const out = Buffer.alloc(5);
  out.write(type, 0, "latin1");
  out.writeInt32BE(bytes - 1, 1);
  return out;
}

/** A Query of exactly `bytes` bytes, the type byte included, split where the test wants. */
function queryOf(bytes: number): Buffer {
  const prefix = "select length('";
  const suffix = "')";
  return writeQuery(prefix + "x".repeat(bytes - 6 - prefix.length - suffix.length) + suffix);
}

test("a 200 MB Query is refused from its length word, before its body is buffered", async () => {
  const raw = await loggedIn();
  const before = process.memoryUsage().arrayBuffers;
  raw.socket.write(header("Q", 200 * MiB - 1));
  // What a sender would go on with: never more than this reaches the proxy's buffers.
  raw.socket.write(Buffer.alloc(MiB, 0x78));
  const error = await raw.errorThenClose();
  assert.equal(error?.get("S"), "FATAL");
  assert.equal(error?.get("C"), "54000");
  assert.match(error?.get("M") ?? "", /^airlock: a Query message of 209715199 bytes is over the limit of 4194304 bytes \(AIRLOCK_MAX_STATEMENT_BYTES\)/);
  const grown = process.memoryUsage().arrayBuffers - before;
  assert.ok(grown < 32 * MiB, `buffers grew by ${Math.round(grown / MiB)} MiB`);
});

test("a Bind larger than the agent's budget is refused at its header too", async () => {
  const raw = await loggedIn();
  raw.socket.write(header("B", 2 * MiB));
  const error = await raw.errorThenClose();
  assert.equal(error?.get("C"), "54000");
  assert.match(error?.get("M") ?? "", /AIRLOCK_MAX_BUFFERED_BYTES_PER_AGENT/);
});

test("an agent's unfinished messages share one budget over its connections", async () => {
  const first = await loggedIn();
  const second = await loggedIn();
  const other = await loggedIn("ops-agent");
  // The first connection announces 700 KB and sends part of it: all 700 KB count from the header.
  const big = queryOf(700 * 1024);
  first.socket.write(big.subarray(0, 100 * 1024));
  await new Promise((r) => setTimeout(r, 100));

  second.socket.write(queryOf(700 * 1024));
  const error = await second.errorThenClose();
  assert.equal(error?.get("C"), "54000");
  assert.match(error?.get("M") ?? "", /^airlock: agent "reporting-agent" is sending more than 1048576 bytes at once over its connections \(AIRLOCK_MAX_BUFFERED_BYTES_PER_AGENT\)/);

  // Another agent has its own budget; the first connection finishes its statement.
  other.socket.write(queryOf(700 * 1024));
  assert.deepEqual(errorsOf(await answersUntilReady(other)), []);
  first.socket.write(big.subarray(100 * 1024));
  assert.deepEqual(errorsOf(await answersUntilReady(first)), []);

  // Its bytes were given back when the message was whole: another 700 KB fits now.
  const third = await loggedIn();
  third.socket.write(queryOf(700 * 1024));
  assert.deepEqual(errorsOf(await answersUntilReady(third)), []);
  for (const raw of [first, other, third]) raw.close();
});
