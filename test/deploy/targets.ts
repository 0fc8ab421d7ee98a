/**
 * The environment each deploy target gives Airlock, read from its files: the image's ENV, and on
 * top of it compose's per-service settings; systemd's env files; the Helm chart's ConfigMap,
 * Secret and pod env. Shared by the per-target tests and test/deploy/settings.test.ts.
 */
import YAML from "yaml";
import { dockerEnv, parseDockerfile, parseEnvFile, read, staticTemplate, valueAt, type Values } from "./support";

export interface Target {
  name: string;
  env: Map<string, string>;
  /** The policy file Airlock reads there (its `${NAME}`s are variables it reads too). */
  policy: string;
}

export const dockerfile = parseDockerfile(read("deploy/Dockerfile"));
export const runtimeStage = Math.max(...dockerfile.map((i) => i.stage));
export const imageEnv = dockerEnv(dockerfile, runtimeStage);

export const compose = YAML.parse(read("deploy/compose.yaml"), { merge: true }) as { services: Record<string, ComposeService> };
export interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string };
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  depends_on?: Record<string, { condition: string }> | string[];
  stop_grace_period?: string;
  command?: string[];
  networks?: Record<string, { aliases?: string[] }>;
}
/** The services that run the Airlock image built from deploy/Dockerfile as Airlock (not the seed). */
export const composeInstances = Object.entries(compose.services).filter(([, s]) => s.build?.dockerfile === "deploy/Dockerfile" && !s.command);

/** compose's `${NAME:-default}` as compose resolves it with NAME unset. */
export function composeDefault(value: string): string {
  return value.replace(/\$\{[A-Z_]+:-([^}]*)\}/g, "$1");
}

export const helmValues = YAML.parse(read("deploy/helm/airlock/values.yaml")) as Values;

export function helmEnv(): Map<string, string> {
  const env = new Map<string, string>();
  const [settings] = staticTemplate(read("deploy/helm/airlock/templates/configmap.yaml"), helmValues) as Array<{ data: Record<string, string> }>;
  for (const [k, v] of Object.entries(settings.data)) if (k !== "TEMPLATE") env.set(k, v);
  for (const [k, v] of Object.entries(valueAt(helmValues, "env") as Record<string, string>)) env.set(k, String(v));
  const [secret] = staticTemplate(read("deploy/helm/airlock/templates/secret.yaml"), helmValues) as Array<{ stringData: Record<string, string> }>;
  for (const k of Object.keys(secret.stringData)) if (k !== "TEMPLATE") env.set(k, "postgres://airlock:pw@store:5432/airlock");
  for (const k of Object.keys(valueAt(helmValues, "secretEnv") as Record<string, string>)) env.set(k, "postgres://app:pw@db:5432/app");
  const [deployment] = staticTemplate(read("deploy/helm/airlock/templates/deployment.yaml"), helmValues) as Array<{ spec: { template: { spec: { containers: Array<{ env: Array<{ name: string }> }> } } } }>;
  for (const { name } of deployment.spec.template.spec.containers[0].env) env.set(name, "pod-name");
  return env;
}

export function targets(): Target[] {
  const list: Target[] = [{ name: "deploy/Dockerfile", env: imageEnv, policy: read("airlock.policy.yaml") }];
  for (const [name, service] of composeInstances) {
    const env = new Map(imageEnv);
    for (const [k, v] of Object.entries(service.environment ?? {})) env.set(k, composeDefault(String(v)));
    list.push({ name: `deploy/compose.yaml ${name}`, env, policy: read("deploy/compose/airlock.policy.yaml") });
  }
  const systemdBase = parseEnvFile(read("deploy/systemd/airlock.env.example"));
  list.push({ name: "deploy/systemd airlock.service", env: systemdBase, policy: read("airlock.policy.yaml") });
  list.push({ name: "deploy/systemd airlock-proxy.service", env: new Map([...systemdBase, ...parseEnvFile(read("deploy/systemd/airlock-proxy.env.example"))]), policy: read("airlock.policy.yaml") });
  list.push({ name: "deploy/helm/airlock", env: new Map([...imageEnv, ...helmEnv()]), policy: String(valueAt(helmValues, "policy")) });
  return list;
}
