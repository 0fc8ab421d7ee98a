import fs from "node:fs";
import { parse } from "yaml";
import { z } from "zod";
import { ConfigError } from "../config";
import { githubActionsMapping } from "./mappings/github-actions";
import { kubernetesMapping } from "./mappings/kubernetes";
import { oidcMapping } from "./mappings/oidc";
import { ISSUER_NAME, type TrustedIssuerOptions } from "./trusted-issuers";

/** An entry of AGENT_ISSUERS_FILE, ready for createTrustedIssuersVerifier. */
export interface TrustedIssuer {
  name: string;
  mapping: "github-actions" | "kubernetes" | "oidc";
  /** Carries the name too: it is the namespace of this issuer's agent ids and groups. */
  verifier: TrustedIssuerOptions;
}

const names = z.array(z.string().min(1)).min(1);
/** Numeric ids, written bare or quoted in YAML; tokens carry them as strings. */
const ids = z.array(z.union([z.string().regex(/^\d+$/, "must be a number"), z.number().int().nonnegative()]).transform(String)).min(1);

const common = {
  // The name prefixes the entry's agent ids and groups (NAME:…): without ':' (or case) in it, a
  // prefix always says which entry an id or group is from.
  name: z.string().regex(ISSUER_NAME, "must be lower-case letters, digits or '-' (it prefixes this issuer's agent ids and groups)"),
  // Keys fetched over plain HTTP could be swapped on the way: only loopback (tests, a sidecar) may use it.
  issuer: z.string().refine(isTrustworthyUrl, "must be an https:// URL (http:// only on loopback)"),
  audience: z.string().min(1),
  /** Groups every agent of this issuer is in, besides those its mapping gives; not prefixed (the administrator's own choice). */
  groups: names.optional(),
};

const EntrySchema = z.discriminatedUnion("mapping", [
  z.strictObject({ ...common, mapping: z.literal("github-actions"), owners: names.optional(), repositories: names.optional(), owner_ids: ids.optional() }),
  z.strictObject({ ...common, mapping: z.literal("kubernetes"), namespaces: names.optional() }),
  // Required here, unlike AGENT_CLIENT_IDS for the default issuer: an extra IdP's other clients
  // (any service that can ask it for this audience) must not become agents by being forgotten.
  z.strictObject({ ...common, mapping: z.literal("oidc"), client_ids: names, groups_claim: z.string().min(1).optional() }),
]);
type Entry = z.infer<typeof EntrySchema>;

const FileSchema = z.strictObject({ issuers: z.array(EntrySchema).min(1) });

/** Reads and checks AGENT_ISSUERS_FILE (YAML or JSON); throws ConfigError naming the file, entry and field. */
export function readAgentIssuersFile(file: string): TrustedIssuer[] {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    throw new ConfigError(`AGENT_ISSUERS_FILE: cannot read ${file}: ${(err as Error).message}`);
  }
  return parseAgentIssuers(text, file);
}

export function parseAgentIssuers(text: string, file: string): TrustedIssuer[] {
  let value: unknown;
  try {
    value = parse(text);
  } catch (err) {
    throw new ConfigError(`${file}: ${(err as Error).message.split("\n")[0]}`);
  }
  const parsed = FileSchema.safeParse(value);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => `${file}: ${issue.path.join(".") || "(top)"}: ${issue.message}`).join("\n"));
  }
  const problems: string[] = [];
  const seen = new Set<string>();
  parsed.data.issuers.forEach((entry, i) => {
    const at = `${file}: issuers.${i} (${entry.name})`;
    if (seen.has(entry.name)) problems.push(`${at}: the name is used twice`);
    seen.add(entry.name);
    if (entry.mapping === "github-actions" && !entry.owners && !entry.repositories) {
      problems.push(`${at}: a github-actions issuer signs tokens for every repository on GitHub; list the owners or repositories whose jobs are agents`);
    }
  });
  if (problems.length > 0) throw new ConfigError(problems.join("\n"));
  return parsed.data.issuers.map((entry) => ({ name: entry.name, mapping: entry.mapping, verifier: { name: entry.name, issuer: entry.issuer, audience: entry.audience, groups: entry.groups, mapping: claimMapping(entry) } }));
}

function claimMapping(entry: Entry) {
  switch (entry.mapping) {
    case "github-actions":
      return githubActionsMapping({ owners: entry.owners, repositories: entry.repositories, ownerIds: entry.owner_ids });
    case "kubernetes":
      return kubernetesMapping(entry.namespaces);
    case "oidc":
      return oidcMapping({ groupsClaim: entry.groups_claim ?? "groups", clientIds: entry.client_ids, clientIdsSetting: `client_ids of issuer ${entry.name}` });
  }
}

function isTrustworthyUrl(value: string): boolean {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  if (url.protocol === "https:") return true;
  return url.protocol === "http:" && ["127.0.0.1", "localhost", "[::1]"].includes(url.hostname);
}
