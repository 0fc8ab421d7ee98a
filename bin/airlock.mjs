#!/usr/bin/env node
// The `airlock` command: TypeScript sources run through tsx, so no separate build step.
import { register } from "tsx/esm/api";

register();
const { main } = await import(new URL("../cli/main.ts", import.meta.url).href);
process.exitCode = await main(process.argv.slice(2));
