/**
 * deploy/Dockerfile read as Docker would, without Docker (none runs here): the stages, the user,
 * the data volume, the ports, the health check and the command match what Airlock does.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { loadConfig } from "../../lib/config";
import { exists, read, setByNpmStart } from "./support";
import { dockerfile, imageEnv, runtimeStage } from "./targets";

const runtime = dockerfile.filter((i) => i.stage === runtimeStage);
const one = (name: string) => {
  const found = runtime.filter((i) => i.name === name);
  assert.equal(found.length, 1, `one ${name} in the runtime stage`);
  return found[0].args;
};
const jsonArgs = (name: string) => JSON.parse(one(name).replace(/^CMD\s+/, "")) as string[];

test("two stages: build on the full Debian image, run on the slim one of the same release", () => {
  const froms = dockerfile.filter((i) => i.name === "FROM").map((i) => i.args);
  assert.deepEqual(froms, ["node:20-bookworm AS build", "node:20-bookworm-slim"]);
  const build = dockerfile.filter((i) => i.stage === 0 && i.name === "RUN").map((i) => i.args);
  assert.ok(build.some((r) => r.startsWith("npm ci")), "npm ci from the lock file");
  assert.ok(build.some((r) => r.startsWith("npm run build")), "the dashboard's production build");
  assert.ok(build.some((r) => r.includes("npm prune --omit=dev")), "no devDependencies at run time");
  const scripts = (JSON.parse(read("package.json")) as { scripts: Record<string, string>; dependencies: Record<string, string> });
  assert.equal(scripts.scripts.build, "next build");
  assert.ok(scripts.dependencies.tsx, "tsx, which runs the server, survives the prune");
  assert.ok(runtime.some((i) => i.name === "COPY" && i.args.startsWith("--from=build ")), "the runtime takes the built tree from the build stage");
});

test("a non-root user, with a numeric id Kubernetes can check, owns the data dir and nothing else", () => {
  const user = one("USER");
  assert.match(user, /^[1-9]\d+$/, "numeric, not root");
  const runs = runtime.filter((i) => i.name === "RUN").map((i) => i.args).join("\n");
  assert.match(runs, new RegExp(`useradd .*--uid ${user}\\b`));
  assert.match(runs, /chown airlock:airlock \/data /);
  assert.match(runs, /chmod 0700 \/data/, "0700, as lib/data-dir.ts wants it (else it warns and tightens)");
  const userAt = runtime.findIndex((i) => i.name === "USER");
  assert.ok(runtime.findIndex((i) => i.name === "CMD") > userAt, "the command runs as that user");
});

test("the data dir is a volume and what AIRLOCK_DATA_DIR says", () => {
  assert.equal(imageEnv.get("AIRLOCK_DATA_DIR"), "/data");
  assert.deepEqual(JSON.parse(one("VOLUME")), ["/data"]);
  assert.equal(loadConfig(Object.fromEntries(imageEnv)).dataDir, "/data");
});

test("the exposed ports are the ones Airlock listens on, its defaults", () => {
  const config = loadConfig(Object.fromEntries(imageEnv));
  const defaults = loadConfig({});
  assert.deepEqual(one("EXPOSE").split(/\s+/).map(Number), [config.port, config.proxyPort]);
  assert.deepEqual([config.port, config.proxyPort], [defaults.port, defaults.proxyPort]);
  assert.equal(config.host, "0.0.0.0", "not the loopback default, unreachable from outside the container");
});

test("the health check asks /api/health on the dashboard port, and the route exists", () => {
  const check = one("HEALTHCHECK");
  assert.match(check, /CMD \["node", "-e", ".*\/api\/health/);
  assert.match(check, /process\.env\.AIRLOCK_PORT \|\| 3000/);
  assert.ok(exists("app/api/health/route.ts"));
  const startPeriod = Number(/--start-period=(\d+)s/.exec(check)?.[1]);
  assert.ok(startPeriod >= 30, "the first start migrates the store and seeds the demo");
});

test("stops with SIGTERM, which Airlock drains on; the command is what npm start runs", () => {
  assert.equal(one("STOPSIGNAL"), "SIGTERM");
  assert.match(read("server.ts"), /process\.on\("SIGTERM"/);
  const cmd = jsonArgs("CMD");
  assert.deepEqual(cmd.slice(0, 3), ["node", "--import", "tsx"]);
  assert.ok(exists(cmd[3]), `${cmd[3]} exists`);
  assert.match(read("scripts/start.ts"), new RegExp(`import\\("\\.\\./${cmd[3].replace(/\.ts$/, "")}"\\)`), "scripts/start.ts loads the same file");
  // npm start sets these before it loads the server; the image, which skips npm, sets them itself.
  for (const [name, value] of setByNpmStart()) assert.equal(imageEnv.get(name), value, name);
});

test("the build context leaves out host builds and local data, and keeps what the image runs", () => {
  const ignored = read("deploy/Dockerfile.dockerignore").split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));
  for (const must of ["node_modules", ".next", "data", ".env", ".git"]) assert.ok(ignored.includes(must), `ignores ${must}`);
  // What the server loads at run time, what the build reads (scripts/build-if-needed.ts SOURCES), the policy, the migrations.
  const sources = /const SOURCES = (\[[^\]]*\])/.exec(read("scripts/build-if-needed.ts"))![1];
  const needed = [...(JSON.parse(sources) as string[]), "server.ts", "server", "proxy", "drizzle", "scripts", "package.json", "airlock.policy.yaml", "bin", "cli"];
  for (const path of needed) {
    assert.ok(exists(path), `${path} exists`);
    assert.ok(!ignored.some((pattern) => pattern === path || path.startsWith(`${pattern}/`)), `${path} is not ignored`);
  }
  assert.equal(imageEnv.get("AIRLOCK_POLICY"), "/app/airlock.policy.yaml");
  assert.equal(runtime.find((i) => i.name === "WORKDIR")?.args, "/app");
});
