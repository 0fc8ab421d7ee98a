/**
 * deploy/compose.yaml and its files, checked without a container engine: two instances sharing
 * one store and one public URL (docs/deployment.md), the balancer's config (by `haproxy -c` when
 * HAProxy is installed, and read here in any case), the policy, and the demo seed on a real PostgreSQL.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import pg from "pg";
import { parseDuration } from "../../lib/policy/duration";
import { parsePolicy } from "../../lib/policy/policy-file";
import { DEMO_COUNTS } from "../../lib/demo/seed-data";
import { seedDemo } from "../../deploy/compose/seed-demo";
import { startPostgres } from "../support/postgres";
import { commandExists, exists, read, ROOT } from "./support";
import { compose, composeDefault, composeInstances, type ComposeService } from "./targets";

const services = compose.services;
const envOf = (s: ComposeService) => Object.fromEntries(Object.entries(s.environment ?? {}).map(([k, v]) => [k, composeDefault(String(v))]));
/** A postgres service's database URL as its own environment makes it. */
const urlOf = (name: string) => {
  const e = services[name].environment!;
  return `postgres://${e.POSTGRES_USER}:${e.POSTGRES_PASSWORD}@${name}:5432/${e.POSTGRES_DB}`;
};
const haproxy = read("deploy/compose/haproxy.cfg");

test("two Airlock instances, same settings but their names, one store, one public URL", () => {
  assert.equal(composeInstances.length, 2);
  const [a, b] = composeInstances.map(([, s]) => envOf(s));
  assert.notEqual(a.AIRLOCK_INSTANCE_NAME, b.AIRLOCK_INSTANCE_NAME);
  assert.deepEqual({ ...a, AIRLOCK_INSTANCE_NAME: "" }, { ...b, AIRLOCK_INSTANCE_NAME: "" });
  assert.equal(a.AIRLOCK_STORE_URL, urlOf("store"), "the store service's own credentials and database");
  assert.equal(a.DEMO_DATABASE_URL, urlOf("demo-db"));
  assert.equal(envOf(services["demo-seed"]).DEMO_DATABASE_URL, urlOf("demo-db"), "the seed fills the database the instances use");
  const volumes = composeInstances.map(([, s]) => s.volumes!.find((v) => v.endsWith(":/data")));
  assert.ok(volumes[0] && volumes[1] && volumes[0] !== volumes[1], "each instance its own data dir");
  for (const [, s] of composeInstances) {
    assert.deepEqual(Object.keys(s.depends_on as object).sort(), ["demo-seed", "store"]);
  }
});

test("the public URL is the balancer's, reachable from the containers by its alias", () => {
  const url = new URL(envOf(composeInstances[0][1]).AIRLOCK_PUBLIC_URL);
  const lb = services.lb;
  assert.ok(lb.networks?.default.aliases?.includes(url.hostname), `${url.hostname} is the balancer's alias`);
  assert.ok(lb.ports!.includes(`${url.port}:${url.port}`), "published on the same port as inside");
  assert.match(haproxy, new RegExp(`^frontend dashboard[^]*?bind :${url.port}$`, "m"));
});

test("the balancer: TCP for the proxy, HTTP for the dashboard, to each instance, by readiness", () => {
  const agents = /frontend agents\n([^]*?)\n\n/.exec(haproxy)![1];
  assert.match(agents, /mode tcp/);
  assert.match(agents, /bind :6432/);
  assert.ok(services.lb.ports!.includes("6432:6432"));
  const proxies = /backend proxies\n([^]*?)\n\n/.exec(haproxy)![1];
  const dashboards = /backend dashboards\n([^]*)$/.exec(haproxy)![1];
  assert.match(proxies, /mode tcp/);
  assert.match(dashboards, /mode http/);
  for (const backend of [proxies, dashboards]) assert.match(backend, /option httpchk GET \/api\/ready/);
  assert.ok(exists("app/api/ready/route.ts"));
  for (const [name] of composeInstances) {
    assert.match(proxies, new RegExp(`server \\w+ ${name}:6432 check port 3000`));
    assert.match(dashboards, new RegExp(`server \\w+ ${name}:3000 `));
  }
  // Idle agent sessions end at AIRLOCK_IDLE_SESSION_TIMEOUT (10 min): the balancer must not cut them sooner.
  for (const t of [/timeout client (\w+)/.exec(agents)![1], /timeout server (\w+)/.exec(proxies)![1]]) assert.ok(parseDuration(t)! > 10 * 60_000, t);
  assert.equal(services.lb.volumes![0].split(":")[0], "./compose/haproxy.cfg");
});

test("HAProxy accepts its configuration (haproxy -c) where HAProxy is installed", () => {
  // Without HAProxy the test above has read it; with it, the real parser has the last word.
  if (!commandExists("haproxy")) return assert.match(haproxy, /^defaults\n/m);
  const result = spawnSync("haproxy", ["-c", "-f", "deploy/compose/haproxy.cfg"], { cwd: ROOT, encoding: "utf8" });
  assert.equal(result.status, 0, result.stderr);
  // The instances' names resolve only inside Docker's network; any other warning is a finding.
  const warnings = result.stderr.split("\n").filter((l) => l.includes("[WARNING]") && !/could not resolve address 'airlock-[ab]'/.test(l));
  assert.deepEqual(warnings, []);
});

test("stopping waits for the drain: stop_grace_period above AIRLOCK_DRAIN_SECONDS plus 10 s", () => {
  for (const [name, s] of composeInstances) {
    const drain = Number(envOf(s).AIRLOCK_DRAIN_SECONDS);
    assert.ok(parseDuration(s.stop_grace_period!)! > (drain + 10) * 1000, name);
  }
});

test("the mounted policy is the repository's, with the demo on the shared PostgreSQL", () => {
  const [, a] = composeInstances[0];
  const mount = a.volumes!.find((v) => v.includes(envOf(a).AIRLOCK_POLICY))!;
  assert.equal(mount, `./compose/airlock.policy.yaml:${envOf(a).AIRLOCK_POLICY}:ro`);
  const env = envOf(a);
  const composed = parsePolicy(read("deploy/compose/airlock.policy.yaml"), env);
  const repository = parsePolicy(read("airlock.policy.yaml"), {});
  assert.deepEqual(composed.rules, repository.rules);
  assert.deepEqual(composed.breakGlass, repository.breakGlass);
  assert.equal(composed.resources.get("demo")?.url, env.DEMO_DATABASE_URL);
  assert.deepEqual([...composed.resources.keys()], [...repository.resources.keys()]);
});

test("the demo seed fills an empty PostgreSQL once, and leaves a filled one alone", async () => {
  const seed = services["demo-seed"];
  assert.deepEqual(seed.command, ["node", "--import", "tsx", "deploy/compose/seed-demo.ts"]);
  assert.ok(seed.volumes!.includes("./compose/seed-demo.ts:/app/deploy/compose/seed-demo.ts:ro"), "mounted where its relative imports resolve in the image");
  const server = await startPostgres();
  try {
    assert.equal(await seedDemo(server.url), true);
    assert.equal(await seedDemo(server.url), false);
    const client = new pg.Client({ connectionString: server.url });
    await client.connect();
    const { rows } = await client.query<{ n: number }>("select count(*)::int as n from public.customers");
    await client.end();
    assert.equal(rows[0].n, DEMO_COUNTS.customers);
  } finally {
    await server.stop();
  }
});
