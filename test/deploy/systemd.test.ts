/**
 * deploy/systemd: `systemd-analyze verify` and its offline security score where systemd is
 * installed (it is on Debian), and in any case the keys that carry Airlock's contracts: the user,
 * the env files, the data dir, the command, the stop signal and a stop timeout above the drain.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { loadConfig } from "../../lib/config";
import { commandExists, exists, parseEnvFile, parseUnit, read, setByNpmStart } from "./support";
import { makeTempDir } from "../support/temp-dir";

const UNITS = { "airlock.service": "server.ts", "airlock-proxy.service": "proxy/standalone.ts" } as const;
const baseEnv = parseEnvFile(read("deploy/systemd/airlock.env.example"));
const proxyEnv = parseEnvFile(read("deploy/systemd/airlock-proxy.env.example"));

/** A unit as systemd-analyze checks it: as written, or with ExecStart's node where this machine has it. */
function unitToVerify(name: string, dir: string): string {
  const text = read(`deploy/systemd/${name}`);
  const file = path.join(dir, name);
  fs.writeFileSync(file, fs.existsSync("/usr/bin/node") ? text : text.replace("ExecStart=/usr/bin/node", `ExecStart=${process.execPath}`));
  return file;
}

for (const [name, entry] of Object.entries(UNITS)) {
  const unit = parseUnit(read(`deploy/systemd/${name}`));
  const service = unit.get("Service")!;
  const one = (key: string) => {
    const values = service.get(key) ?? [];
    assert.equal(values.length, 1, `one ${key}=`);
    return values[0];
  };

  test(`${name}: systemd accepts it${commandExists("systemd-analyze") ? " (systemd-analyze verify, security)" : " (systemd-analyze absent: keys read here)"}`, () => {
    if (!commandExists("systemd-analyze")) {
      // Without systemd the sections and keys are read here (parseUnit throws on a line that is neither).
      assert.deepEqual([...unit.keys()], ["Unit", "Service", "Install"]);
      return;
    }
    const dir = makeTempDir("units");
    try {
      const file = unitToVerify(name, dir.path);
      const verify = spawnSync("systemd-analyze", ["verify", file], { encoding: "utf8" });
      // verify exits 0 on unknown keys and unparsable values, saying so: any line about the unit fails.
      const said = `${verify.stdout}${verify.stderr}`.split("\n").filter((l) => l.includes(name));
      assert.equal(verify.status, 0, verify.stderr);
      assert.deepEqual(said, []);
      const security = spawnSync("systemd-analyze", ["security", "--offline=true", "--no-pager", file], { encoding: "utf8" });
      const exposure = Number(/Overall exposure level for \S+: ([\d.]+)/.exec(security.stdout)?.[1]);
      assert.ok(exposure <= 3, `exposure ${exposure} (0 best, 10 worst) stays low`);
    } finally {
      dir.remove();
    }
  });

  test(`${name}: runs ${entry} as airlock, from /opt/airlock, with the env files`, () => {
    assert.equal(one("Type"), "simple");
    assert.equal(one("User"), "airlock");
    assert.equal(one("WorkingDirectory"), "/opt/airlock");
    assert.equal(one("ExecStart"), `/usr/bin/node --import tsx ${entry}`);
    assert.ok(exists(entry));
    const files = service.get("EnvironmentFile")!;
    assert.equal(files[0], "/etc/airlock/airlock.env");
    if (name === "airlock-proxy.service") assert.deepEqual(files, ["/etc/airlock/airlock.env", "/etc/airlock/airlock-proxy.env"]);
    const environment = new Map(one("Environment").split(/\s+/).map((kv) => kv.split("=") as [string, string]));
    // What npm start sets and the unit, running node itself, must set (NODE_ENV at least for the proxy).
    for (const [k, v] of setByNpmStart()) if (name === "airlock.service" || k === "NODE_ENV") assert.equal(environment.get(k), v, k);
    assert.equal(unit.get("Install")!.get("WantedBy")![0], "multi-user.target");
  });

  test(`${name}: SIGTERM, and a stop timeout above the drain plus the 10 s of closing`, () => {
    assert.equal(one("KillSignal"), "SIGTERM");
    const drain = loadConfig(Object.fromEntries(baseEnv)).operations.drainMs / 1000;
    assert.ok(Number(one("TimeoutStopSec").replace(/s$/, "")) > drain + 10);
    assert.equal(one("Restart"), "on-failure");
  });

  test(`${name}: hardened, with the data dir writable and private`, () => {
    for (const [key, value] of [["NoNewPrivileges", "yes"], ["ProtectSystem", "strict"], ["ProtectHome", "yes"], ["PrivateTmp", "yes"], ["StateDirectory", "airlock"], ["StateDirectoryMode", "0700"], ["UMask", "0077"], ["CapabilityBoundingSet", ""]]) {
      assert.equal(one(key), value, key);
    }
    assert.ok(!service.has("MemoryDenyWriteExecute"), "V8's JIT needs W+X memory");
    assert.equal(baseEnv.get("AIRLOCK_DATA_DIR"), `/var/lib/${one("StateDirectory")}`, "the data dir is the StateDirectory ProtectSystem=strict leaves writable");
  });
}

test("the proxy's env file gives it its own port and metrics port, and a name", () => {
  const main = loadConfig(Object.fromEntries(baseEnv));
  const proxy = loadConfig(Object.fromEntries([...baseEnv, ...proxyEnv]));
  assert.notEqual(proxy.proxyPort, main.proxyPort);
  assert.notEqual(proxy.operations.metricsPort, main.operations.metricsPort);
  assert.ok(proxyEnv.get("AIRLOCK_INSTANCE_NAME"));
});
