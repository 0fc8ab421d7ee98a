import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { startLocalIssuer, type LocalIssuer } from "../../test/support/token-issuer";
import { githubActionsClaims, kubernetesClaims } from "../../test/support/workload-claims";
import { ConfigError } from "../config";
import { requesterMismatch } from "../policy/evaluate";
import { parsePolicy } from "../policy/policy-file";
import type { AgentIdentity, AgentTokenVerifier } from "./agent-token";
import { githubActionsMapping } from "./mappings/github-actions";
import { kubernetesMapping } from "./mappings/kubernetes";
import { oidcMapping } from "./mappings/oidc";
import { TokenError, type TokenProblem } from "./token-error";
import { createTrustedIssuersVerifier } from "./trusted-issuers";

describe("several trusted issuers, each with its own keys, audience, mapping and namespace", () => {
  let home: LocalIssuer;
  let github: LocalIssuer;
  let cluster: LocalIssuer;
  let staging: LocalIssuer;
  let partner: LocalIssuer;
  let stranger: LocalIssuer;
  let verify: AgentTokenVerifier;

  before(async () => {
    [home, github, cluster, staging, partner, stranger] = await Promise.all(Array.from({ length: 6 }, () => startLocalIssuer()));
    verify = createTrustedIssuersVerifier([
      // The default issuer (AGENT_OIDC_ISSUER): no name, ids and groups as its tokens say.
      { issuer: home.issuer, audience: "airlock" },
      { name: "github", issuer: github.issuer, audience: "https://airlock.example.com", mapping: githubActionsMapping({ owners: ["acme"] }), groups: ["agents"] },
      { name: "prod-cluster", issuer: cluster.issuer, audience: "airlock", mapping: kubernetesMapping() },
      { name: "staging-cluster", issuer: staging.issuer, audience: "airlock", mapping: kubernetesMapping() },
      { name: "partner", issuer: partner.issuer, audience: "airlock", mapping: oidcMapping({ groupsClaim: "roles", clientIds: ["etl-bot"], clientIdsSetting: "client_ids of issuer partner" }) },
    ]);
  });
  after(() => Promise.all([home, github, cluster, staging, partner, stranger].map((i) => i.close())));

  const productionJob = async () => verify(await github.mint(githubActionsClaims({ repository: "acme/etl", environment: "production" }), { audience: "https://airlock.example.com" }));

  async function refused(token: string, problem: TokenProblem, message: RegExp) {
    await assert.rejects(verify(token), (err: unknown) => {
      assert.ok(err instanceof TokenError, `expected TokenError, got ${String(err)}`);
      assert.equal(err.problem, problem, err.message);
      assert.match(err.message, message);
      return true;
    });
  }

  test("a GitHub Actions token gets its mapping's id and groups in the entry's namespace, plus the entry's own groups as written", async () => {
    const identity = await productionJob();
    assert.equal(identity.agentId, "github:repo:acme/etl:environment:production");
    assert.equal(identity.issuer, github.issuer);
    assert.deepEqual(identity.groups, ["github:acme", "github:acme/etl", "github:acme/etl:ref:refs/heads/main", "github:acme/etl:environment:production", "agents"]);
    assert.ok(identity.expiresAt > Date.now() / 1000);
  });

  test("a Kubernetes token gets the service account's id and groups, under the cluster's entry name", async () => {
    const identity = await verify(await cluster.mint(kubernetesClaims("etl", "reporter"), { audience: ["airlock", "https://kubernetes.default.svc"] }));
    assert.equal(identity.agentId, "prod-cluster:system:serviceaccount:etl:reporter");
    assert.deepEqual(identity.groups, ["prod-cluster:system:serviceaccounts", "prod-cluster:system:serviceaccounts:etl"]);
  });

  test("two clusters' service accounts of the same namespace and name are different agents in different groups", async () => {
    const prod = await verify(await cluster.mint(kubernetesClaims("etl", "reporter")));
    const stage = await verify(await staging.mint(kubernetesClaims("etl", "reporter")));
    assert.equal(stage.agentId, "staging-cluster:system:serviceaccount:etl:reporter");
    assert.notEqual(prod.agentId, stage.agentId);
    assert.deepEqual(prod.groups.filter((g) => stage.groups.includes(g)), []);
  });

  test("a client-credentials token of another IdP is its subject, with its groups claim, in the entry's namespace", async () => {
    const identity = await verify(await partner.mint({ sub: "etl-bot", client_id: "etl-bot", roles: ["agents", "analytics"] }));
    assert.deepEqual([identity.agentId, identity.groups], ["partner:etl-bot", ["partner:agents", "partner:analytics"]]);
    await refused(await partner.mint({ sub: "alice", client_id: "partner-portal" }), "client", /client_ids of issuer partner/);
  });

  test("an oidc entry minting a GitHub job's subject and groups gets them in its own namespace: no rule or grant of the job is its", async () => {
    const job = await productionJob();
    const policy = parsePolicy(`resources: { demo: { type: postgres, url: "pglite://demo" } }
rules:
  - { name: production-etl-reads, match: { groups: ["github:acme/etl:environment:production"], kinds: [select] }, action: allow }
  - { name: github-jobs, match: { agents: ["github:*"], kinds: [select] }, action: allow }
  - { name: etl-namespace, match: { groups: ["prod-cluster:system:serviceaccounts:etl"], kinds: [select] }, action: allow }
  - { name: the-job, match: { agents: ["${job.agentId}"], kinds: [select] }, action: allow }
`);
    const rule = (name: string) => policy.rules.find((r) => r.name === name)!;
    const matches = (who: AgentIdentity, name: string) => requesterMismatch(rule(name), { ...who, resource: "demo" }) === undefined;
    assert.ok(matches(job, "production-etl-reads") && matches(job, "github-jobs") && matches(job, "the-job"));

    const roles = ["github:acme/etl:environment:production", "github:acme", "prod-cluster:system:serviceaccounts:etl", "agents"];
    for (const sub of [job.agentId, "repo:acme/etl:environment:production", `x.${job.agentId}`]) {
      const impostor = await verify(await partner.mint({ sub, client_id: "etl-bot", roles }));
      assert.equal(impostor.agentId, `partner:${sub}`);
      assert.deepEqual(impostor.groups, roles.map((r) => `partner:${r}`));
      // Grants and pending requests are keyed by agent id (lib/approvals/grants.ts): a different id shares none of the job's.
      assert.notEqual(impostor.agentId, job.agentId);
      assert.deepEqual(impostor.groups.filter((g) => job.groups.includes(g)), []);
      for (const name of ["production-etl-reads", "github-jobs", "etl-namespace", "the-job"]) assert.ok(!matches(impostor, name), `${sub} must not match ${name}`);
    }
  });

  test("the default issuer keeps its ids and groups as they are", async () => {
    const identity = await verify(await home.mint({ sub: "reporting-agent", groups: ["agents", "svc:reporting", "github-actions:x"] }));
    assert.deepEqual([identity.agentId, identity.groups], ["reporting-agent", ["agents", "svc:reporting", "github-actions:x"]]);
  });

  test("the default issuer may not name an agent or a group inside an entry's namespace", async () => {
    await refused(await home.mint({ sub: "github:repo:acme/etl:environment:production" }), "not-allowed", /subject is in the namespace of agent issuer github \("github:…"\)/);
    await refused(await home.mint({ sub: "GitHub:repo:acme/etl:environment:production" }), "not-allowed", /namespace of agent issuer github/);
    await refused(await home.mint({ sub: "mallory", groups: ["agents", "prod-cluster:system:serviceaccounts:etl"] }), "not-allowed", /group is in the namespace of agent issuer prod-cluster/);
    await refused(await home.mint({ sub: "mallory", groups: "partner:agents" }), "not-allowed", /namespace of agent issuer partner/);
  });

  test("an issuer not in the list is refused, by name", async () => {
    await refused(await stranger.mint(githubActionsClaims({ repository: "acme/etl" })), "issuer", new RegExp(`token issuer ${stranger.issuer} is not a trusted agent issuer`));
    await refused(await stranger.mint(kubernetesClaims("etl", "reporter"), { iss: "x".repeat(500) }), "issuer", /issuer \(unprintable or too long\) is not a trusted/);
  });

  test("a token without an issuer, or not a JWT at all, is refused", async () => {
    await refused(await stranger.mint({ sub: "a" }, { iss: "" }), "issuer", /names no issuer/);
    await refused("not-a-jwt", "malformed", /not a valid JWT/);
  });

  test("each entry checks its own audience", async () => {
    await refused(await github.mint(githubActionsClaims({ repository: "acme/etl" }), { audience: "airlock" }), "audience", /token audience is not "https:\/\/airlock.example.com"/);
    await refused(await cluster.mint(kubernetesClaims("etl", "reporter"), { audience: "https://kubernetes.default.svc" }), "audience", /token audience is not "airlock"/);
  });

  test("a token of one mapping's shape from another issuer is refused", async () => {
    await refused(await cluster.mint(githubActionsClaims({ repository: "acme/etl" })), "claims", /not a Kubernetes service-account token/);
    await refused(await github.mint({ ...kubernetesClaims("etl", "reporter") }, { audience: "https://airlock.example.com" }), "claims", /not a GitHub Actions token/);
  });

  test("claiming a trusted issuer does not help a token signed with another key", async () => {
    await refused(await stranger.mint(githubActionsClaims({ repository: "acme/etl" }), { iss: github.issuer, audience: "https://airlock.example.com" }), "signature", /signature does not verify/);
  });

  test("a repository outside the entry's owners is refused", async () => {
    await refused(await github.mint(githubActionsClaims({ repository: "someone/fork" }), { audience: "https://airlock.example.com" }), "not-allowed", /someone\/fork is not allowed/);
  });

  test("an expired workload token is refused", async () => {
    await refused(await cluster.mint(kubernetesClaims("etl", "reporter"), { expiresAt: Math.floor(Date.now() / 1000) - 120 }), "expired", /expired/);
  });

  test("an issuer may be listed once", () => {
    assert.throws(() => createTrustedIssuersVerifier([{ issuer: github.issuer, audience: "a" }, { issuer: github.issuer, audience: "b" }]), /configured twice/);
  });

  test("a name is one namespace: used once, and of lower-case letters, digits and '-' only", () => {
    const entry = (name: string, issuer: string) => ({ name, issuer, audience: "airlock" });
    assert.throws(() => createTrustedIssuersVerifier([entry("ci", github.issuer), entry("ci", cluster.issuer)]), (err: unknown) => err instanceof ConfigError && /name ci is used twice/.test(err.message));
    for (const name of ["GitHub", "prod:cluster", "prod.cluster", "", "-x"]) {
      assert.throws(() => createTrustedIssuersVerifier([entry(name, github.issuer)]), (err: unknown) => err instanceof ConfigError && /lower-case letters, digits or '-'/.test(err.message), name);
    }
  });
});

test("keys are not taken from a discovery document that names another issuer (OIDC Discovery §4.3)", async () => {
  const impostor = await startLocalIssuer({ announce: "https://token.actions.githubusercontent.com" });
  try {
    const verify = createTrustedIssuersVerifier([{ issuer: impostor.issuer, audience: "airlock", mapping: kubernetesMapping() }]);
    await assert.rejects(verify(await impostor.mint(kubernetesClaims("etl", "reporter"))), (err: unknown) => {
      assert.ok(err instanceof TokenError);
      assert.equal(err.problem, "unavailable");
      assert.match(err.message, /discovery document names issuer "https:\/\/token.actions.githubusercontent.com"/);
      return true;
    });
  } finally {
    await impostor.close();
  }
});
