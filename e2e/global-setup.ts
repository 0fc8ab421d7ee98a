import fs from "node:fs";
import path from "node:path";
import { startAirlock } from "../test/support/airlock-server";
import { makeTempDir } from "../test/support/temp-dir";

/**
 * One Airlock for the browser suite, with its own copy of the shipped policy (tests edit it);
 * tests read its URL and files from the environment.
 */
export default async function globalSetup() {
  const dir = makeTempDir("e2e");
  const policy = path.join(dir.path, "airlock.policy.yaml");
  fs.copyFileSync("airlock.policy.yaml", policy);
  const server = await startAirlock({ dataDir: dir.path, env: { AIRLOCK_POLICY: policy } });
  process.env.AIRLOCK_E2E_URL = server.url;
  process.env.AIRLOCK_E2E_DATA_DIR = server.dataDir;
  process.env.AIRLOCK_E2E_POLICY = policy;
  return async () => {
    await server.stop();
    dir.remove();
  };
}
