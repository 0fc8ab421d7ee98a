/**
 * server.ts's first import, so the logs are set before any other module loads: some print as
 * they load (oidc-provider's runtime warning), and with AIRLOCK_LOG_FORMAT=json that line must be
 * JSON too. `.env` is read here for the same reason.
 */
import { ConfigError, loadDotEnv } from "../lib/config";
import { configureLogs, installConsole, readLogSettings } from "../lib/log";

loadDotEnv();
try {
  configureLogs(readLogSettings());
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  console.error(`airlock: ${err.message}`);
  process.exit(1);
}
installConsole();
