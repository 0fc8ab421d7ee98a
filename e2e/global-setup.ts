import { startAirlock } from "../test/support/airlock-server";

/** One Airlock for the browser suite; tests read its URL from the environment. */
export default async function globalSetup() {
  const server = await startAirlock();
  process.env.AIRLOCK_E2E_URL = server.url;
  process.env.AIRLOCK_E2E_DATA_DIR = server.dataDir;
  return async () => server.stop();
}
