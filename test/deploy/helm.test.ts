/**
 * deploy/helm/airlock without Helm (not installed here): every `.Values` a template names is in
 * values.yaml, and the templates' static parts (directives taken out, values put in) agree with
 * Airlock's contracts — probes, ports, grace period, paths, the image's user. With Helm installed,
 * `helm lint` has its say as well.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";
import YAML from "yaml";
import { parsePolicy } from "../../lib/policy/policy-file";
import { commandExists, DEPLOY, read, staticTemplate, valueAt, valuesReferences } from "./support";
import { dockerfile, helmEnv, helmValues, runtimeStage } from "./targets";

const CHART = path.join(DEPLOY, "helm", "airlock");
const templates = fs.readdirSync(path.join(CHART, "templates")).filter((f) => f.endsWith(".yaml"));
const render = (file: string) => staticTemplate(read(`deploy/helm/airlock/templates/${file}`), helmValues) as Array<Record<string, any>>; // eslint-disable-line @typescript-eslint/no-explicit-any
const byKind = (kind: string) => templates.flatMap(render).filter((doc) => doc.kind === kind);
const values = helmValues as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

test("the chart: Chart.yaml v2 named as its folder; templates parse once the directives are out", () => {
  const chart = YAML.parse(read("deploy/helm/airlock/Chart.yaml")) as { apiVersion: string; name: string };
  assert.equal(chart.apiVersion, "v2");
  assert.equal(chart.name, path.basename(CHART));
  assert.deepEqual(templates.sort(), ["configmap.yaml", "deployment.yaml", "pdb.yaml", "secret.yaml", "service.yaml"]);
  for (const file of templates) assert.ok(render(file).every((doc) => doc.apiVersion && doc.kind), file);
  if (commandExists("helm")) {
    const lint = spawnSync("helm", ["lint", CHART, "--set", "storeUrl=postgres://a:b@c:5432/d"], { encoding: "utf8" });
    assert.equal(lint.status, 0, lint.stdout + lint.stderr);
  }
});

test("every .Values a template names is in values.yaml", () => {
  const helpers = read("deploy/helm/airlock/templates/_helpers.tpl");
  for (const file of [...templates, "_helpers.tpl"]) {
    const text = file === "_helpers.tpl" ? helpers : read(`deploy/helm/airlock/templates/${file}`);
    for (const ref of valuesReferences(text)) assert.notEqual(valueAt(helmValues, ref), undefined, `${file}: .Values.${ref}`);
  }
  assert.equal(values.replicaCount, 2);
  assert.equal(typeof values.storeUrl, "string", "the store URL has its place in values.yaml");
  assert.match(read("deploy/helm/airlock/templates/secret.yaml"), /AIRLOCK_STORE_URL: \{\{ \.Values\.storeUrl \| quote \}\}/);
  assert.match(read("deploy/helm/airlock/templates/secret.yaml"), /fail "storeUrl is required with more than one replica/);
});

test("the Deployment: readiness on /api/ready, liveness on /api/health, on the dashboard port", () => {
  const [deployment] = byKind("Deployment");
  const pod = deployment.spec.template.spec;
  const [container] = pod.containers;
  assert.equal(deployment.spec.replicas, values.replicaCount);
  assert.deepEqual(container.readinessProbe.httpGet, { path: "/api/ready", port: "http" });
  assert.deepEqual(container.livenessProbe.httpGet, { path: "/api/health", port: "http" });
  assert.deepEqual(container.startupProbe.httpGet, { path: "/api/health", port: "http" });
  assert.deepEqual(container.ports, [{ name: "http", containerPort: values.ports.http }, { name: "postgres", containerPort: values.ports.postgres }]);
  const env = helmEnv();
  assert.equal(env.get("AIRLOCK_PORT"), String(values.ports.http), "Airlock listens where the probes and the Service look");
  assert.equal(env.get("AIRLOCK_PROXY_PORT"), String(values.ports.postgres));
  assert.deepEqual(container.env, [{ name: "AIRLOCK_INSTANCE_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } }]);
});

test("the grace period covers the preStop pause, the drain and the 10 s of closing", () => {
  const [deployment] = byKind("Deployment");
  const pod = deployment.spec.template.spec;
  const sleep = Number(pod.containers[0].lifecycle.preStop.exec.command[1]);
  assert.equal(sleep, values.preStopSleepSeconds);
  assert.equal(helmEnv().get("AIRLOCK_DRAIN_SECONDS"), String(values.drainSeconds));
  assert.ok(pod.terminationGracePeriodSeconds > sleep + values.drainSeconds + 10);
});

test("runs as the image's user, read-only root, with the data dir, policy and caches mounted", () => {
  const [deployment] = byKind("Deployment");
  const pod = deployment.spec.template.spec;
  const [container] = pod.containers;
  const imageUser = Number(dockerfile.find((i) => i.stage === runtimeStage && i.name === "USER")!.args);
  assert.equal(pod.securityContext.runAsUser, imageUser);
  assert.equal(pod.securityContext.runAsNonRoot, true);
  assert.equal(container.securityContext.readOnlyRootFilesystem, true);
  const mounts = Object.fromEntries(container.volumeMounts.map((m: { name: string; mountPath: string }) => [m.name, m.mountPath]));
  const env = helmEnv();
  assert.ok(env.get("AIRLOCK_DATA_DIR")!.startsWith(`${mounts.data}/`), "a dir Airlock makes inside the volume, so it can make it 0700");
  const [settings, policyMap] = render("configmap.yaml");
  assert.equal(env.get("AIRLOCK_POLICY"), `${mounts.policy}/${Object.keys(policyMap.data)[0]}`);
  assert.equal(mounts.tmp, "/tmp");
  assert.ok(settings.data);
  const volumes = Object.fromEntries(pod.volumes.map((v: { name: string }) => [v.name, v]));
  for (const name of Object.keys(mounts)) assert.ok(volumes[name], `volume ${name}`);
});

test("the Service exposes the dashboard and the proxy; the PDB keeps one pod", () => {
  const [service] = byKind("Service");
  assert.deepEqual(service.spec.ports, [
    { name: "http", port: values.ports.http, targetPort: "http" },
    { name: "postgres", port: values.ports.postgres, targetPort: "postgres" },
  ]);
  const [pdb] = byKind("PodDisruptionBudget");
  assert.equal(pdb.spec.minAvailable, 1);
  assert.ok(pdb.spec.minAvailable < values.replicaCount);
});

test("the policy in values.yaml is a valid policy once its variables are set", () => {
  const policy = parsePolicy(values.policy, { APP_DATABASE_URL: "postgres://app:pw@db:5432/app" });
  assert.ok(policy.resources.size > 0);
  assert.match(read("deploy/helm/airlock/templates/configmap.yaml"), /airlock\.policy\.yaml: \|\n\s+\{\{- \.Values\.policy \| nindent 4 \}\}/);
});
