/**
 * Every environment variable the deploy files set is one Airlock reads and documents (a typo or a
 * renamed setting would otherwise be ignored without a word), and each target's settings load.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { loadConfig } from "../../lib/config";
import { readLogSettings } from "../../lib/log";
import { parsePolicy } from "../../lib/policy/policy-file";
import { documentedSettings, policyVariables, setByNpmStart, settingsReadByCode } from "./support";
import { targets } from "./targets";

const read = settingsReadByCode();
const documented = documentedSettings();
const npmStart = setByNpmStart();

test("the scan finds the settings it should (a scan that finds nothing would pass everything)", () => {
  for (const name of ["AIRLOCK_PORT", "AIRLOCK_DATA_DIR", "AIRLOCK_INSTANCE_NAME", "AIRLOCK_LOG_FORMAT", "AIRLOCK_STORE_URL", "OIDC_ISSUER"]) {
    assert.ok(read.has(name), `${name} read by the code`);
    assert.ok(documented.has(name), `${name} in docs/configuration.md`);
  }
  assert.deepEqual([...npmStart.keys()].sort(), ["NEXT_TELEMETRY_DISABLED", "NODE_ENV"]);
});

for (const target of targets()) {
  test(`${target.name}: sets only settings Airlock reads and documents`, () => {
    const fromPolicy = policyVariables(target.policy);
    const unknown = [...target.env.keys()].filter((name) => !npmStart.has(name) && !fromPolicy.has(name) && !(read.has(name) && documented.has(name)));
    assert.deepEqual(unknown, [], "read by no code in lib/, server/, proxy/, idp/, or not in docs/configuration.md");
  });

  test(`${target.name}: its settings load, listening beyond loopback, with the policy's variables set`, () => {
    const env = Object.fromEntries(target.env);
    const config = loadConfig(env);
    readLogSettings(env);
    assert.equal(config.host, "0.0.0.0", "reachable from outside its container or host");
    assert.ok(config.dataDir.startsWith("/"), "an absolute data dir");
    assert.ok(config.policyPath.startsWith("/"), "an absolute policy path");
    for (const name of policyVariables(target.policy)) assert.ok(target.env.has(name), `the policy reads \${${name}}`);
    parsePolicy(target.policy, { ...env, ...Object.fromEntries([...policyVariables(target.policy)].map((n) => [n, env[n] || "postgres://u:p@db:5432/x"])) });
  });
}
