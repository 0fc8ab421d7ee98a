import { test } from "node:test";
import assert from "node:assert/strict";
import { ConfigError } from "../config";
import { parseAgentIssuers } from "./agent-issuers-file";

const FILE = "agent-issuers.yaml";

const EXAMPLE = `
issuers:
  - name: github
    mapping: github-actions
    issuer: https://token.actions.githubusercontent.com
    audience: https://airlock.example.com
    owners: [acme]
    owner_ids: [1234567]
    groups: [agents]
  - name: prod-cluster
    mapping: kubernetes
    issuer: https://oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLE
    audience: airlock
    namespaces: [etl]
  - name: partner
    mapping: oidc
    issuer: http://127.0.0.1:8080/realms/agents
    audience: airlock
    client_ids: [etl-bot]
    groups_claim: roles
`;

test("the documented example reads as three entries, each with its name (its namespace), issuer, audience, groups and mapping", () => {
  const issuers = parseAgentIssuers(EXAMPLE, FILE);
  assert.deepEqual(
    issuers.map((i) => [i.verifier.name, i.mapping, i.verifier.issuer, i.verifier.audience, i.verifier.groups]),
    [
      ["github", "github-actions", "https://token.actions.githubusercontent.com", "https://airlock.example.com", ["agents"]],
      ["prod-cluster", "kubernetes", "https://oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLE", "airlock", undefined],
      ["partner", "oidc", "http://127.0.0.1:8080/realms/agents", "airlock", undefined],
    ],
  );
  const github = issuers[0].verifier.mapping!;
  assert.throws(() => github({ repository: "evil/x", repository_owner: "evil", ref: "refs/heads/main" }), /not allowed/);
  assert.throws(() => github({ repository: "acme/x", repository_owner: "acme", repository_owner_id: "666", ref: "refs/heads/main" }), /owner_ids/);
  assert.equal(github({ repository: "acme/x", repository_owner: "acme", repository_owner_id: "1234567", ref: "refs/heads/main" }).agentId, "repo:acme/x:ref:refs/heads/main");
});

const entry = (lines: string) => `issuers:\n  - name: x\n    audience: airlock\n${lines.replace(/^/gm, "    ")}\n`;

for (const [what, text, message] of [
  ["a github-actions issuer with no owners or repositories", entry("mapping: github-actions\nissuer: https://token.actions.githubusercontent.com"), /issuers\.0 \(x\): a github-actions issuer signs tokens for every repository on GitHub/],
  ["an oidc issuer with no client_ids", entry("mapping: oidc\nissuer: https://login.example.com"), /issuers\.0\.client_ids/],
  ["an issuer over plain http off loopback", entry("mapping: kubernetes\nissuer: http://cluster.example.com"), /issuers\.0\.issuer: must be an https:\/\/ URL/],
  ["an unknown mapping", entry("mapping: saml\nissuer: https://idp.example.com"), /issuers\.0\.mapping/],
  ["an unknown field (a typo must not drop a restriction)", entry("mapping: kubernetes\nissuer: https://k8s.example.com\nnamespace: [etl]"), /namespace/],
  ["an owner id that is not a number", entry("mapping: github-actions\nissuer: https://token.actions.githubusercontent.com\nowners: [acme]\nowner_ids: [acme]"), /issuers\.0\.owner_ids\.0: must be a number/],
  ["no audience", "issuers:\n  - { name: x, mapping: kubernetes, issuer: https://k8s.example.com }", /issuers\.0\.audience/],
  ["a name used twice", `issuers:\n${["a", "b"].map((i) => `  - { name: x, mapping: kubernetes, issuer: https://${i}.example.com, audience: airlock }`).join("\n")}`, /issuers\.1 \(x\): the name is used twice/],
  ["no issuers", "issuers: []", /issuers/],
  ...(["Prod", "prod_cluster", "prod.cluster", "prod:cluster", "-prod"].map((name) => [`the name ${name} (it prefixes ids and groups: lower-case letters, digits and '-' only)`, `issuers:\n  - { name: "${name}", mapping: kubernetes, issuer: https://k8s.example.com, audience: airlock }`, /issuers\.0\.name: must be lower-case letters, digits or '-'/] as const)),
  ["not YAML", "issuers: [", /agent-issuers\.yaml: /],
] as const) {
  test(`refused: ${what}`, () => {
    assert.throws(() => parseAgentIssuers(text, FILE), (err: unknown) => err instanceof ConfigError && err.message.startsWith(FILE) && message.test(err.message));
  });
}
