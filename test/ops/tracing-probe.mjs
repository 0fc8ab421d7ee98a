// Preloaded (NODE_OPTIONS=--import) into `npm run proxy` by tracing.test.ts: at exit, how many
// OpenTelemetry modules the process loaded (the SDK's packages are CommonJS: they land in require.cache).
import fs from "node:fs";
import { createRequire } from "node:module";

const cache = createRequire(import.meta.url).cache;

process.on("exit", () => {
  const loaded = Object.keys(cache).filter((file) => file.includes("@opentelemetry")).length;
  fs.writeSync(2, `opentelemetry-modules=${loaded}\n`);
});
