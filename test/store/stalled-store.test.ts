import assert from "node:assert/strict";
import net from "node:net";
import { test } from "node:test";
import { openStore } from "../../lib/db/client";
import { STORE_CONNECT_TIMEOUT_MS } from "../../lib/db/postgres-store";
import { makeTempDir } from "../support/temp-dir";

test("a store that accepts connections and never answers fails the start within the connect timeout, naming the store", async () => {
  const sockets: net.Socket[] = [];
  const silent = net.createServer((socket) => void sockets.push(socket));
  await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
  const { port } = silent.address() as net.AddressInfo;
  const dir = makeTempDir("stalled-store");
  const started = Date.now();
  try {
    await assert.rejects(openStore({ dataDir: dir.path, url: `postgres://airlock:secret@127.0.0.1:${port}/airlock` }), (err: Error) => {
      assert.match(err.message, /the store at postgres:\/\/airlock:\*\*\*@127\.0\.0\.1:\d+\/airlock cannot be used/);
      assert.doesNotMatch(err.message, /secret/);
      return true;
    });
    const took = Date.now() - started;
    assert.ok(took < STORE_CONNECT_TIMEOUT_MS + 3_000, `failed after ${took} ms`);
  } finally {
    for (const socket of sockets) socket.destroy();
    silent.close();
    dir.remove();
  }
});
