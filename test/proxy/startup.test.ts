import { test } from "node:test";
import assert from "node:assert/strict";
import { readFields } from "../../proxy/protocol/reader";
import { writeStartupMessage } from "../../proxy/protocol/writer";
import { RawWireClient } from "../support/raw-wire-client";
import { withProxy } from "./setup";

const env = withProxy();

function packet(code: number): Buffer {
  const out = Buffer.alloc(8);
  out.writeInt32BE(8, 0);
  out.writeInt32BE(code, 4);
  return out;
}

test("SSLRequest and GSSENCRequest are declined without TLS configured, then login proceeds", async () => {
  const raw = await RawWireClient.connect(env().harness.proxy.port);
  raw.socket.write(packet(80877104)); // GSSENCRequest
  assert.equal(await raw.singleByte(), "N");
  raw.socket.write(packet(80877103)); // SSLRequest
  assert.equal(await raw.singleByte(), "N");
  await raw.login("reporting-agent", "pg", await env().harness.idp.token("reporting-agent"));
  raw.close();
});

test("a client asking for protocol 3.2 is told the proxy speaks 3.0", async () => {
  const raw = await RawWireClient.connect(env().harness.proxy.port);
  const startup = writeStartupMessage({ user: "reporting-agent", database: "pg", "_pq_.future": "1" });
  startup.writeInt32BE((3 << 16) | 2, 4);
  raw.socket.write(startup);
  const negotiate = await raw.expect("v");
  assert.equal(negotiate.body.readInt32BE(0), 0, "newest minor version");
  assert.equal(negotiate.body.readInt32BE(4), 1, "one unrecognized option");
  assert.equal(negotiate.body.toString("utf8", 8, negotiate.body.length - 1), "_pq_.future");
  await raw.expect("R");
  raw.close();
});

test("bytes pipelined after SSLRequest are refused", async () => {
  const raw = await RawWireClient.connect(env().harness.proxy.port);
  raw.socket.write(Buffer.concat([packet(80877103), writeStartupMessage({ user: "x" })]));
  const error = await raw.errorThenClose();
  assert.equal(error?.get("C"), "08P01");
  assert.ok(raw.closed);
});

test("a protocol version other than 3 is refused", async () => {
  const raw = await RawWireClient.connect(env().harness.proxy.port);
  const startup = writeStartupMessage({ user: "reporting-agent" });
  startup.writeInt32BE(2 << 16, 4);
  raw.socket.write(startup);
  const message = await raw.expect("E");
  assert.equal(readFields(message.body).get("C"), "0A000");
});
