/** `npm start`: build if needed, then run Airlock in production mode in this process. */
import { buildIfNeeded } from "./build-if-needed";

// Next.js reads NODE_ENV when it loads; @types/node marks it read-only, which Node does not.
(process.env as Record<string, string>).NODE_ENV = "production";
process.env.NEXT_TELEMETRY_DISABLED ??= "1";
buildIfNeeded();
await import("../server");
