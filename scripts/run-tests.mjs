#!/usr/bin/env node
// Runs every *.test.ts outside node_modules and e2e/ with node's test runner (Node 20 has no
// glob patterns for --test). Extra arguments narrow the run to files whose path contains them.
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import path from "node:path";

const SKIP = new Set(["node_modules", ".next", ".git", "e2e", "data", "test-results"]);

function findTests(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (SKIP.has(entry.name)) return [];
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return findTests(full);
    return entry.name.endsWith(".test.ts") ? [full] : [];
  });
}

const filters = process.argv.slice(2);
const files = findTests(".").filter((f) => filters.length === 0 || filters.some((x) => f.includes(x))).sort();
if (files.length === 0) {
  console.error("no test files matched");
  process.exit(1);
}
// Every test and hook has a time limit (scripts/test-limits.mjs): a hang fails and names itself.
// Node 20's --test-timeout times a whole file; it stays as the backstop that names a stuck file.
const limits = new URL("./test-limits.mjs", import.meta.url).href;
const FILE_LIMIT_MS = 15 * 60_000;
const result = spawnSync(process.execPath, ["--import", "tsx", "--import", limits, "--test", "--test-concurrency=2", `--test-timeout=${FILE_LIMIT_MS}`, ...files], { stdio: "inherit" });
process.exit(result.status ?? 1);
