import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

/** The parts of a PostgreSQL build that pg_regress needs, all inside one built src/test/regress. */
export interface RegressBuild {
  /** Debian's source version, the same as the installed server's when Debian still has it. */
  version: string;
  /** Built src/test/regress: pg_regress, regress.so, autoinc.so, refint.so, sql/, expected/… */
  dir: string;
}

const SOURCES = "/etc/apt/sources.list.d/debian.sources";
const SOURCES_SRC = "/etc/apt/sources.list.d/debian-src.sources";

/**
 * PostgreSQL's sources from Debian, built just enough for pg_regress and regress.so, cached in
 * `cacheDir`: a second run reuses both the download and the build.
 */
export function ensureRegressBuild(cacheDir: string, major: string, say: (line: string) => void): RegressBuild {
  const pkg = `postgresql-${major}`;
  fs.mkdirSync(cacheDir, { recursive: true });
  let source = findSourceTree(cacheDir, major);
  if (!source) {
    requireRoot("fetch the sources with apt-get");
    ensureDebSrc(say);
    source = fetchSources(cacheDir, pkg, say);
  }
  const dir = path.join(source.path, "src/test/regress");
  if (!["pg_regress", "regress.so", "autoinc.so", "refint.so"].every((f) => fs.existsSync(path.join(dir, f)))) {
    ensureCompiler(say);
    build(source.path, say);
  }
  return { version: source.version, dir };
}

function findSourceTree(cacheDir: string, major: string): { path: string; version: string } | undefined {
  const name = fs.readdirSync(cacheDir).find((n) => n.startsWith(`postgresql-${major}-`) && fs.existsSync(path.join(cacheDir, n, "configure")));
  return name ? { path: path.join(cacheDir, name), version: name.slice(name.indexOf("-", 11) + 1) } : undefined;
}

/** A deb-src twin of Debian's own sources, so apt-get source can reach the same mirrors. */
function ensureDebSrc(say: (line: string) => void): void {
  const listed = [SOURCES, SOURCES_SRC, "/etc/apt/sources.list"].some((f) => fs.existsSync(f) && /^\s*(Types:.*\bdeb-src\b|deb-src\s)/m.test(fs.readFileSync(f, "utf8")));
  if (!listed) {
    if (!fs.existsSync(SOURCES)) throw new Error(`no ${SOURCES} to mirror: add a deb-src line for Debian yourself`);
    say(`adding ${SOURCES_SRC} (Types: deb-src)`);
    fs.writeFileSync(SOURCES_SRC, fs.readFileSync(SOURCES, "utf8").replace(/^Types:\s*deb\s*$/gm, "Types: deb-src"));
  }
  say("apt-get update");
  run("apt-get", ["update", "-qq"]);
}

/**
 * The installed server's exact version first: a security update may be listed in the index but
 * missing from the mirror, and regress.so should match the server anyway.
 */
function fetchSources(cacheDir: string, pkg: string, say: (line: string) => void): { path: string; version: string } {
  const installed = spawnSync("dpkg-query", ["-W", "-f=${Version}", pkg], { encoding: "utf8" }).stdout.trim();
  for (const spec of installed ? [`${pkg}=${installed}`, pkg] : [pkg]) {
    say(`apt-get source ${spec}`);
    const result = spawnSync("apt-get", ["source", "-qq", spec], { cwd: cacheDir, encoding: "utf8" });
    const tree = findSourceTree(cacheDir, pkg.split("-")[1]);
    if (result.status === 0 && tree) return tree;
    say(`  failed: ${(result.stderr || result.stdout).trim().split("\n").filter((l) => l.startsWith("E:")).join("; ")}`);
  }
  throw new Error(`apt-get source ${pkg} failed: is deb.debian.org reachable, and is there a deb-src entry (${SOURCES_SRC})?`);
}

/** Only a C compiler, make and perl (for the generated headers): no readline, zlib or ICU. */
function ensureCompiler(say: (line: string) => void): void {
  const missing = ["gcc", "make", "perl"].filter((tool) => spawnSync("sh", ["-c", `command -v ${tool}`]).status !== 0);
  if (missing.length === 0) return;
  requireRoot(`install ${missing.join(", ")}`);
  say("apt-get install build-essential perl");
  run("apt-get", ["install", "-y", "-qq", "build-essential", "perl"], { DEBIAN_FRONTEND: "noninteractive" });
}

/**
 * configure with the defaults that decide the module ABI (block size, float8 by value, 64-bit
 * datetimes: the same as Debian's), so regress.so loads into Debian's server; the rest is off.
 */
function build(source: string, say: (line: string) => void): void {
  if (!fs.existsSync(path.join(source, "config.status"))) {
    say("configure (minimal)");
    run("nice", ["-n", "10", "./configure", "--without-readline", "--without-zlib", "--without-icu", "--without-openssl"], {}, source);
  }
  say("make -C src/test/regress (a few minutes on two cores)");
  run("nice", ["-n", "10", "make", "-j2", "-s", "-C", "src/test/regress"], {}, source);
}

/** Quiet unless it fails (configure warns about bison and flex, which a release tarball does not need). */
function run(cmd: string, args: string[], env: Record<string, string> = {}, cwd?: string): void {
  try {
    execFileSync(cmd, args, { cwd, env: { ...process.env, ...env }, stdio: ["ignore", "ignore", "pipe"], maxBuffer: 64 * 1024 * 1024 });
  } catch (err) {
    const stderr = String((err as { stderr?: Buffer }).stderr ?? "").trim().split("\n").slice(-20).join("\n");
    throw new Error(`${cmd} ${args.join(" ")} failed${cwd ? ` in ${cwd}` : ""}:\n${stderr}`);
  }
}

function requireRoot(what: string): void {
  if (process.getuid?.() !== 0) throw new Error(`need root to ${what}: run \`sudo npm run regress\` once (later runs reuse the cache)`);
}
