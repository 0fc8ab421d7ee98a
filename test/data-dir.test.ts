import { after, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import pg from "pg";
import { ensurePrivateDir } from "../lib/data-dir";
import { readServerInfo } from "../lib/server-info";
import { agentToken } from "./access/setup";
import { startAirlock } from "./support/airlock-server";
import { makeTempDir } from "./support/temp-dir";

const temp = makeTempDir("perms");
after(() => temp.remove());

/** Every file and dir under `dir` whose mode gives anything to group or others, with that mode. */
function openToOthers(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true, recursive: true }).flatMap((entry) => {
    const full = path.join(entry.parentPath, entry.name);
    const mode = fs.lstatSync(full).mode;
    return !entry.isSymbolicLink() && (mode & 0o077) !== 0 ? [`${path.relative(dir, full)} ${(mode & 0o777).toString(8)}`] : [];
  });
}

test("a real start in a data dir others could read tightens it to 0700 and creates nothing group or world readable", async () => {
  const dataDir = path.join(temp.path, "data");
  fs.mkdirSync(dataDir, { mode: 0o755 });
  fs.chmodSync(dataDir, 0o755);
  const airlock = await startAirlock({ dataDir });
  try {
    // A statement through the proxy: the store has recorded it and the embedded demo database has written its files.
    const { proxy } = readServerInfo(dataDir)!;
    const client = new pg.Client({ ...proxy, user: "reporting-agent", password: await agentToken(airlock), database: "demo" });
    await client.connect();
    await client.query("select count(*) from orders");
    await client.end();
    assert.match(airlock.output(), /data dir .* was 0755, readable by other users: changing it to 0700/);
    assert.equal(fs.statSync(dataDir).mode & 0o777, 0o700);
    const files = fs.readdirSync(dataDir, { recursive: true, encoding: "utf8" });
    assert.ok(files.some((f) => f.startsWith("demo")), `the demo database is in the data dir: ${files.join(", ")}`);
    assert.ok(files.includes("airlock.db"));
    assert.deepEqual(openToOthers(dataDir), []);
  } finally {
    await airlock.stop();
  }
});

test("a new data dir is made 0700 whatever the umask; a private one is left as it is, without a warning", () => {
  const dir = path.join(temp.path, "a", "b");
  const warnings: string[] = [];
  const oldUmask = process.umask(0o022);
  try {
    ensurePrivateDir(dir, (m) => warnings.push(m));
  } finally {
    process.umask(oldUmask);
  }
  assert.equal(fs.statSync(dir).mode & 0o777, 0o700);
  ensurePrivateDir(dir, (m) => warnings.push(m));
  assert.deepEqual(warnings, []);
});
