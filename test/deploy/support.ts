/**
 * Reading the deploy files (deploy/) as their tools would, without the tools: Dockerfile
 * instructions, env files, systemd units, Helm templates with their directives taken out. And what
 * they are checked against: the settings Airlock's code reads and docs/configuration.md lists.
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import YAML from "yaml";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const DEPLOY = path.join(ROOT, "deploy");

export function read(relative: string): string {
  return fs.readFileSync(path.join(ROOT, relative), "utf8");
}

export function exists(relative: string): boolean {
  return fs.existsSync(path.join(ROOT, relative));
}

// Where Airlock's running code reads its environment (tests, benchmarks and the CLI's own
// client settings aside): the server, the proxy, the core, the IdP, and what `npm start` sets.
const SOURCE_DIRS = ["lib", "server", "proxy", "idp"];
const SOURCE_FILES = ["server.ts", "auth.ts", "scripts/start.ts"];

/** Every environment variable the code reads: `env.NAME`, `env["NAME"]`, `readX(env, "NAME", …)`. */
export function settingsReadByCode(): Set<string> {
  const names = new Set<string>();
  const files = [...SOURCE_DIRS.flatMap((dir) => tsFiles(path.join(ROOT, dir))), ...SOURCE_FILES.map((f) => path.join(ROOT, f))];
  for (const file of files) {
    const text = fs.readFileSync(file, "utf8");
    for (const m of text.matchAll(/\benv(?:\.|\[")([A-Z][A-Z0-9_]+)|\(env, "([A-Z][A-Z0-9_]+)"/g)) names.add(m[1] ?? m[2]);
  }
  return names;
}

function tsFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.tsx?$/.test(e.name) && !e.name.endsWith(".test.ts"))
    .map((e) => path.join(e.parentPath, e.name));
}

/** The variables docs/configuration.md's table lists (first column, each in backticks). */
export function documentedSettings(): Set<string> {
  const names = new Set<string>();
  for (const line of read("docs/configuration.md").split("\n")) {
    const first = /^\| ([^|]+) \|/.exec(line)?.[1] ?? "";
    for (const m of first.matchAll(/`([A-Z][A-Z0-9_]+)`/g)) names.add(m[1]);
  }
  return names;
}

/** What `npm start` sets before it loads the server (scripts/start.ts), name → value. */
export function setByNpmStart(): Map<string, string> {
  const set = new Map<string, string>();
  for (const m of read("scripts/start.ts").matchAll(/\.([A-Z][A-Z0-9_]+)\s*(?:\?\?=|=(?!=))\s*"([^"]*)"/g)) set.set(m[1], m[2]);
  return set;
}

/** `${NAME}` references in a policy file, outside comments: the variables it reads from the environment. */
export function policyVariables(policy: string): Set<string> {
  const code = policy.split("\n").filter((line) => !line.trim().startsWith("#")).join("\n");
  return new Set([...code.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g)].map((m) => m[1]));
}

export interface Instruction {
  name: string;
  args: string;
  /** Its build stage: 0 for the first FROM. */
  stage: number;
}

/** Dockerfile instructions, continuation lines joined, comments dropped. */
export function parseDockerfile(text: string): Instruction[] {
  const joined = text.split("\n").filter((l) => !/^\s*#/.test(l)).join("\n").replace(/\\\n/g, " ");
  let stage = -1;
  return joined.split("\n").filter((l) => l.trim()).map((line) => {
    const [, name, args] = /^\s*(\S+)\s*(.*)$/.exec(line)!;
    if (name.toUpperCase() === "FROM") stage++;
    return { name: name.toUpperCase(), args: args.trim(), stage };
  });
}

/** `ENV A=1 B=2` (the key=value form) over every instruction of a stage. */
export function dockerEnv(instructions: Instruction[], stage: number): Map<string, string> {
  const env = new Map<string, string>();
  for (const i of instructions.filter((x) => x.name === "ENV" && x.stage === stage)) {
    for (const m of i.args.matchAll(/([A-Z_][A-Z0-9_]*)=("[^"]*"|\S+)/g)) env.set(m[1], m[2].replace(/^"|"$/g, ""));
  }
  return env;
}

/** NAME=value lines of an env file (systemd's EnvironmentFile), comments and blanks skipped. */
export function parseEnvFile(text: string): Map<string, string> {
  const env = new Map<string, string>();
  for (const line of text.split("\n")) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line.trim());
    if (m) env.set(m[1], m[2]);
  }
  return env;
}

/** A systemd unit: section → key → values (a key may repeat). */
export function parseUnit(text: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | undefined;
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line || line.startsWith("#") || line.startsWith(";")) continue;
    const section = /^\[(.+)\]$/.exec(line);
    if (section) {
      current = new Map();
      sections.set(section[1], current);
      continue;
    }
    const kv = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (!kv || !current) throw new Error(`not a unit line: ${line}`);
    current.set(kv[1], [...(current.get(kv[1]) ?? []), kv[2]]);
  }
  return sections;
}

export type Values = Record<string, unknown>;

/** A dotted path of values.yaml (`ports.http`), or undefined when some part is missing. */
export function valueAt(values: Values, dotted: string): unknown {
  return dotted.split(".").reduce<unknown>((node, key) => (node && typeof node === "object" && key in node ? (node as Values)[key] : undefined), values);
}

/**
 * A Helm template as YAML documents, without Helm: lines that are only a directive (`{{- if …}}`,
 * `{{- include … | nindent 4 }}`) go; `{{ .Values.x }}` (optionally `| quote`) becomes its value;
 * any other expression becomes the string TEMPLATE. What is left is the template's static shape.
 */
export function staticTemplate(text: string, values: Values): unknown[] {
  const kept = text.split("\n").filter((line) => !/^\s*\{\{-?[^}]*\}\}\s*$/.test(line));
  const filled = kept.join("\n").replace(/\{\{-?\s*([^}]*?)\s*-?\}\}/g, (_, expr: string) => {
    const ref = /^\.Values\.([\w.]+)(\s*\|\s*quote)?$/.exec(expr);
    if (!ref) return "TEMPLATE";
    const value = valueAt(values, ref[1]);
    if (value === undefined) throw new Error(`.Values.${ref[1]} is not in values.yaml`);
    return ref[2] ? JSON.stringify(String(value)) : String(value);
  });
  return YAML.parseAllDocuments(filled).map((doc) => {
    if (doc.errors.length > 0) throw new Error(`template does not parse once its directives are out: ${doc.errors[0].message}`);
    return doc.toJS() as unknown;
  });
}

/** Every `.Values.a.b` a template refers to. */
export function valuesReferences(text: string): string[] {
  return [...text.matchAll(/\.Values\.([\w.]+)/g)].map((m) => m[1]);
}

export function commandExists(name: string): boolean {
  return (process.env.PATH ?? "").split(path.delimiter).some((dir) => fs.existsSync(path.join(dir, name)));
}
