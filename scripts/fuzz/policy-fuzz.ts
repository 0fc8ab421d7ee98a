/**
 * The policy loader under random YAML: every mutation of a valid policy must load or fail with a
 * PolicyError (line and field), never throw anything else.
 */
import { PolicyError, parsePolicy } from "../../lib/policy/policy-file";
import type { Rng } from "./rng";

const BASE = `resources:
  demo: { type: postgres, url: "pglite://demo" }
  prod: { type: postgres, url: "\${PROD_DATABASE_URL}" }
rules:
  - name: never
    match: { kinds: [admin, privilege] }
    action: deny
  - name: never-functions
    match: { functions: [pg_read_file, pg_ls_dir, dblink*] }
    action: deny
    reason: "not here"
  - name: agents-read
    match: { groups: [agents], kinds: [select] }
    action: allow
    mask: { columns: ["customers.email", "*.card_number", "*.ssn"], detect: [email, card, ssn, phone, iban], strategy: partial }
  - name: agents-write
    match:
      groups: [agents]
      kinds: [insert, update, delete]
      tables: [public.orders]
    action: review
    review: { approvers: [db-approvers], count: 1, timeout: 10m, grants: [once, 15m, 1h], mode: wait }
    access: { max: 1h, reason: required }
  - name: schema-changes
    match: { kinds: [ddl, truncate] }
    action: review
    review: { approvers: [db-approvers], count: 2 }
`;

const TOKENS = [":", "-", "- ", "[", "]", "{", "}", ",", '"', "'", "\t", "  ", "&a ", "*a", "!!binary ", "!!str ", "!!int ", "!!map ", "<<: *a", "? ", "|", ">", "#", "%YAML 1.2\n---\n", "---\n", "...\n", "\0", "\u00ff", "${X}", "${", "__proto__", "constructor", "1e999", "-1", "0", "null", "~", "true", ".nan", "0x1F", "2d", "999999999999d", "10m", "once"];
const VALUES = ["[]", "{}", "null", "42", "-1", "1.5", "true", '""', '"x"', "[a, b]", "{ a: 1 }", '"${UNSET_VAR}"', "*a", "!!binary aGVsbG8=", "2001-01-01", "&a [1, 2]", "0.0001s", "1000000000000000d"];

function mutateOnce(rng: Rng, text: string): string {
  const lines = text.split("\n");
  const i = rng.int(0, lines.length - 1);
  switch (rng.int(0, 8)) {
    case 0:
      lines.splice(i, 1);
      break;
    case 1:
      lines.splice(i, 0, lines[rng.int(0, lines.length - 1)]);
      break;
    case 2: {
      const at = rng.int(0, lines[i].length);
      lines[i] = lines[i].slice(0, at) + rng.pick(TOKENS) + lines[i].slice(at);
      break;
    }
    case 3:
      lines[i] = lines[i].replace(/:\s*(.+)$/, `: ${rng.pick(VALUES)}`);
      break;
    case 4:
      lines[i] = (rng.chance(0.5) ? " " : "") + lines[i].replace(/^ /, "");
      break;
    case 5: {
      const at = rng.int(0, Math.max(0, lines[i].length - 1));
      lines[i] = lines[i].slice(0, at) + lines[i].slice(at + rng.int(1, 4));
      break;
    }
    case 6:
      lines[i] = lines[i].replace(/\b(allow|deny|review|select|insert|postgres|wait|partial|email)\b/, rng.pick(["ALLOW", "permit", "", "copy_in", "unknown", "return", "hash", "x".repeat(300)]));
      break;
    case 7:
      // Alias bombs and deep nesting: what a YAML parser must bound.
      lines.push(rng.pick(["x: &a [1,1,1,1,1,1,1,1,1]", "y: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]", "z: [*b,*b,*b,*b,*b,*b,*b,*b,*b]", `deep: ${"[".repeat(rng.int(10, 2000))}`, "resources: {}", "rules: ~"]));
      break;
    case 8:
      return text.slice(0, rng.int(0, text.length));
  }
  return lines.join("\n");
}

export interface PolicyFuzzResult {
  iterations: number;
  loaded: number;
  refused: number;
  /** Inputs that made parsePolicy throw something other than a PolicyError, by error message. */
  failures: Map<string, { text: string; error: string; count: number }>;
}

export function fuzzPolicy(rng: Rng, deadline: number): PolicyFuzzResult {
  const result: PolicyFuzzResult = { iterations: 0, loaded: 0, refused: 0, failures: new Map() };
  const env = { PROD_DATABASE_URL: "postgres://u:p@db/prod", X: "y" };
  while (Date.now() < deadline) {
    let text = BASE;
    for (let n = rng.int(1, 6); n > 0; n--) text = mutateOnce(rng, text);
    result.iterations++;
    try {
      parsePolicy(text, env);
      result.loaded++;
    } catch (err) {
      if (err instanceof PolicyError && err.message.length > 0) {
        result.refused++;
        continue;
      }
      const error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      const key = error.replace(/\d+/g, "#").slice(0, 120);
      const known = result.failures.get(key);
      if (known) {
        known.count++;
        if (text.length < known.text.length) known.text = text;
      } else result.failures.set(key, { text, error, count: 1 });
    }
  }
  return result;
}
