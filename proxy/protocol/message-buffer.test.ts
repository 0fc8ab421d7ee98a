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

/** A budget shared by buffers, as one agent's connections share theirs. */
function budget(max: number) {
  return {
    bytes: 0,
    add(n: number) {
      this.bytes += n;
    },
    get exceeded() {
      return this.bytes > max;
    },
    refusal: () => "over budget",
  };
}

const BY_TYPE = { maxBytes: (type: number) => (type === 0x51 ? 100 : 1000), refusal: (type: number, bytes: number, max: number) => `${String.fromCharCode(type)} ${bytes} > ${max}` };

test("the limit depends on the type: a Query is refused at its header where a Bind as large is not", () => {
  const query = new MessageBuffer(BY_TYPE);
  query.push(Buffer.from([0x51, 0, 0, 0, 200]));
  assert.throws(() => query.next(), (err: unknown) => err instanceof PgWireError && err.code === "54000" && err.message === "Q 201 > 100");
  const bind = new MessageBuffer(BY_TYPE);
  bind.push(Buffer.from([0x42, 0, 0, 0, 200]));
  assert.equal(bind.next(), undefined, "waits for the rest");
});

test("a budget counts a message whole from its length word, over several buffers, and gets it back", () => {
  const shared = budget(1000);
  const first = new MessageBuffer(BY_TYPE, shared);
  const second = new MessageBuffer(BY_TYPE, shared);
  first.push(Buffer.from([0x42, 0, 0, 0x02, 0x57])); // a 600-byte Bind: its header alone arrived
  assert.equal(first.next(), undefined);
  assert.equal(shared.bytes, 600, "counted before its body is buffered");
  second.push(Buffer.from([0x42, 0, 0, 0x02, 0x57]));
  assert.throws(() => second.next(), (err: unknown) => err instanceof PgWireError && err.code === "54000" && err.message === "over budget");
  second.release();
  assert.equal(shared.bytes, 600);
  first.push(Buffer.alloc(595));
  assert.equal(first.next()?.raw.length, 600);
  assert.equal(shared.bytes, 0, "given back once taken");
  first.push(Buffer.from("abc"));
  first.release();
  assert.equal(shared.bytes, 0, "and on release");
});
