#!/usr/bin/env node
// Before the tests: Chromium (for Playwright) and the PostgreSQL server binaries (for the
// integration tests) must be on this machine. As root with apt-get we install what is missing
// from Debian's packages; otherwise we stop and say exactly what to run.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { findPostgresBin } from "./postgres-bin.mjs";

const CHROMIUM = "/usr/bin/chromium";

const missing = [];
if (!existsSync(CHROMIUM)) missing.push("chromium");
if (!findPostgresBin()) missing.push("postgresql");
if (!commandExists("psql")) missing.push("postgresql-client");

if (missing.length > 0) {
  const command = `apt-get update && apt-get install -y ${missing.join(" ")}`;
  const isRoot = process.getuid?.() === 0;
  if (!isRoot || !commandExists("apt-get")) {
    console.error(`Missing for the test suite: ${missing.join(", ")}.\nInstall them with:\n  sudo ${command}`);
    process.exit(1);
  }
  console.log(`[pretest] installing ${missing.join(", ")} from Debian's packages`);
  execFileSync("sh", ["-c", command], { stdio: "inherit", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
}

function commandExists(name) {
  return spawnSync("sh", ["-c", `command -v ${name}`], { stdio: "ignore" }).status === 0;
}
