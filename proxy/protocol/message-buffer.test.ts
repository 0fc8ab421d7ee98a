import { test } from "node:test";
import assert from "node:assert/strict";
import { PgWireError } from "../wire-error";
import { MAX_STARTUP_PACKET_BYTES, MessageBuffer } from "./message-buffer";
import { writeQuery, writeStartupMessage, SYNC } from "./writer";

const LIMIT = 1024;

test("a message split across chunks comes out whole, once", () => {
  const buffer = new MessageBuffer(LIMIT);
  const raw = writeQuery("select 1");
  buffer.push(raw.subarray(0, 2));
  assert.equal(buffer.next(), undefined);
  buffer.push(raw.subarray(2, 7));
  assert.equal(buffer.next(), undefined);
  buffer.push(raw.subarray(7));
  const message = buffer.next();
  assert.equal(String.fromCharCode(message!.type), "Q");
  assert.deepEqual(message!.raw, raw);
  assert.equal(message!.body.toString(), "select 1\0");
  assert.equal(buffer.next(), undefined);
  assert.equal(buffer.bufferedBytes, 0);
});

test("two messages in one chunk come out one by one, without copying", () => {
  const buffer = new MessageBuffer(LIMIT);
  const chunk = Buffer.concat([writeQuery("select 1"), SYNC]);
  buffer.push(chunk);
  const first = buffer.next()!;
  const second = buffer.next()!;
  assert.equal(String.fromCharCode(first.type), "Q");
  assert.equal(String.fromCharCode(second.type), "S");
  assert.equal(first.raw.buffer, chunk.buffer, "a view into the chunk");
  assert.equal(buffer.next(), undefined);
});

test("an oversize length is refused before anything is buffered for it", () => {
  const buffer = new MessageBuffer(LIMIT);
  const header = Buffer.from([0x51, 0x40, 0x00, 0x00, 0x01]); // 'Q' with length just over 1 GiB
  buffer.push(header);
  assert.throws(() => buffer.next(), (err: unknown) => err instanceof PgWireError && err.code === "54000" && err.severity === "FATAL");
});

test("a length below the header's own size is a protocol violation", () => {
  const buffer = new MessageBuffer(LIMIT);
  buffer.push(Buffer.from([0x51, 0, 0, 0, 3]));
  assert.throws(() => buffer.next(), (err: unknown) => err instanceof PgWireError && err.code === "08P01");
});

test("startup packets are read without a type byte and bounded", () => {
  const buffer = new MessageBuffer(LIMIT);
  const startup = writeStartupMessage({ user: "agent", database: "demo" });
  buffer.push(startup.subarray(0, 3));
  assert.equal(buffer.nextStartup(), undefined);
  buffer.push(startup.subarray(3));
  const packet = buffer.nextStartup()!;
  assert.equal(packet.code, 196608);
  assert.match(packet.body.toString(), /user\0agent\0database\0demo\0/);

  const huge = Buffer.alloc(8);
  huge.writeInt32BE(MAX_STARTUP_PACKET_BYTES + 1, 0);
  buffer.push(huge);
  assert.throws(() => buffer.nextStartup(), PgWireError);
});

test("drain hands over what is buffered", () => {
  const buffer = new MessageBuffer(LIMIT);
  buffer.push(Buffer.from("abc"));
  buffer.push(Buffer.from("de"));
  assert.equal(Buffer.concat(buffer.drain()).toString(), "abcde");
  assert.equal(buffer.bufferedBytes, 0);
});

test("a message spanning three chunks is copied once; what follows it stays a view", () => {
  const buffer = new MessageBuffer(LIMIT);
  const big = writeQuery("x".repeat(100));
  const after = writeQuery("next");
  const tail = Buffer.concat([big.subarray(60), after]);
  buffer.push(big.subarray(0, 3));
  buffer.push(big.subarray(3, 60));
  buffer.push(tail);
  assert.deepEqual(buffer.next()!.raw, big);
  const second = buffer.next()!;
  assert.deepEqual(second.raw, after);
  assert.equal(second.raw.buffer, tail.buffer, "not copied");
  assert.equal(buffer.bufferedBytes, 0);
});
