import { test } from "node:test";
import assert from "node:assert/strict";
import { MAX_BODY_BYTES, readJsonBody } from "./json-body";

const post = (body: BodyInit, headers: Record<string, string> = { "content-type": "application/json" }) =>
  new Request("http://airlock.test/api/v1/access-requests", { method: "POST", body, headers, duplex: "half" } as RequestInit);

/** A body sent in chunks with no Content-Length, counting how much of it was pulled. */
function endless(chunk: number): { stream: ReadableStream<Uint8Array>; pulled: () => number } {
  let pulled = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      pulled += chunk;
      controller.enqueue(new Uint8Array(chunk).fill(0x20));
    },
  });
  return { stream, pulled: () => pulled };
}

test("a JSON body is read and parsed; its media type may carry parameters", async () => {
  assert.deepEqual(await readJsonBody(post('{"resource":"demo"}', { "content-type": "Application/JSON; charset=utf-8" })), { ok: true, body: { resource: "demo" } });
});

test("other media types are 415, even ones that merely mention JSON", async () => {
  for (const type of ["text/plain", "text/plain; a=application/json", "application/json-patch+json", ""]) {
    const read = await readJsonBody(post("{}", type ? { "content-type": type } : {}));
    assert.deepEqual(read.ok ? "read" : [read.status, read.code], [415, "unsupported_media_type"], type);
  }
});

test("malformed JSON is 400", async () => {
  const read = await readJsonBody(post("{not json"));
  assert.deepEqual(read.ok ? "read" : [read.status, read.code], [400, "invalid_request"]);
});

test("a body over the limit is 413: by its Content-Length, unread, or cut off while reading when it has none", async () => {
  const declared = await readJsonBody(post("x".repeat(MAX_BODY_BYTES + 1)));
  assert.deepEqual(declared.ok ? "read" : [declared.status, declared.code], [413, "too_large"]);

  const { stream, pulled } = endless(4096);
  const chunked = await readJsonBody(post(stream));
  assert.deepEqual(chunked.ok ? "read" : [chunked.status, chunked.code], [413, "too_large"]);
  assert.ok(pulled() <= MAX_BODY_BYTES + 3 * 4096, `read ${pulled()} bytes of an endless body`);
});

test("exactly the limit is accepted", async () => {
  const body = JSON.stringify({ pad: "x".repeat(MAX_BODY_BYTES - 10) });
  assert.equal(Buffer.byteLength(body), MAX_BODY_BYTES);
  assert.equal((await readJsonBody(post(body))).ok, true);
});
