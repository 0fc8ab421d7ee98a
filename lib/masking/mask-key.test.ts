import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, test } from "node:test";
import { fileURLToPath } from "node:url";
import { makeTempDir } from "../../test/support/temp-dir";
import { loadMaskKey, MASK_KEY_BYTES } from "./mask-key";

let dir: ReturnType<typeof makeTempDir>;
beforeEach(() => (dir = makeTempDir("mask-key")));
afterEach(() => dir.remove());

test("made on first use: 32 random bytes, readable by the owner only", () => {
  const key = loadMaskKey(dir.path);
  const file = path.join(dir.path, "mask-key");
  assert.equal(key.length, MASK_KEY_BYTES);
  assert.deepEqual(fs.readFileSync(file), key);
  assert.equal(fs.statSync(file).mode & 0o777, 0o600);
  assert.deepEqual(fs.readdirSync(dir.path), ["mask-key"], "no temp file left behind");
});

test("reused afterwards, so hashes survive a restart", () => {
  const first = loadMaskKey(dir.path);
  assert.deepEqual(loadMaskKey(dir.path), first);
  const other = makeTempDir("mask-key-other");
  try {
    assert.notDeepEqual(loadMaskKey(other.path), first, "each data dir has its own random key");
  } finally {
    other.remove();
  }
});

test("the data dir is made when missing", () => {
  const nested = path.join(dir.path, "a", "b");
  assert.equal(loadMaskKey(nested).length, MASK_KEY_BYTES);
});

test("a file of the wrong length is refused, naming the file", () => {
  const file = path.join(dir.path, "mask-key");
  for (const content of [Buffer.alloc(0), Buffer.alloc(16), Buffer.from("x".repeat(44) + "\n")]) {
    fs.writeFileSync(file, content);
    assert.throws(() => loadMaskKey(dir.path), (err: Error) => err.message.includes(file) && err.message.includes(`${content.length} bytes`));
    assert.deepEqual(fs.readFileSync(file), content, "the file is left as it was");
  }
});

test("processes starting together end with one key", async () => {
  const modulePath = path.join(path.dirname(fileURLToPath(import.meta.url)), "mask-key.ts");
  // Each child waits for the same moment, so their first loads overlap despite startup times.
  const at = Date.now() + 2000;
  const script = [
    `import { loadMaskKey } from ${JSON.stringify(modulePath)};`,
    `while (Date.now() < ${at});`,
    `process.stdout.write(loadMaskKey(${JSON.stringify(dir.path)}).toString("hex"));`,
  ].join("\n");
  const run = () =>
    new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { stdio: ["ignore", "pipe", "inherit"] });
      let out = "";
      child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
      child.on("error", reject);
      child.on("exit", (code) => (code === 0 ? resolve(out) : reject(new Error(`exit ${code}`))));
    });
  const keys = await Promise.all(Array.from({ length: 4 }, run));
  assert.equal(new Set(keys).size, 1, `different keys: ${keys.join(", ")}`);
  assert.equal(keys[0], fs.readFileSync(path.join(dir.path, "mask-key")).toString("hex"));
});
