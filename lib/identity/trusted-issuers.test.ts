import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { githubActionsClaims, kubernetesClaims, startLocalIssuer, type LocalIssuer } from "../../test/support/token-issuer";
import type { AgentTokenVerifier } from "./agent-token";
import { githubActionsMapping } from "./mappings/github-actions";
import { kubernetesMapping } from "./mappings/kubernetes";
import { oidcMapping } from "./mappings/oidc";
import { TokenError, type TokenProblem } from "./token-error";
import { createTrustedIssuersVerifier } from "./trusted-issuers";

describe("several trusted issuers, each with its own keys, audience and mapping", () => {
  let github: LocalIssuer;
  let cluster: LocalIssuer;
  let partner: LocalIssuer;
  let stranger: LocalIssuer;
  let verify: AgentTokenVerifier;

  before(async () => {
    [github, cluster, partner, stranger] = await Promise.all([startLocalIssuer(), startLocalIssuer(), startLocalIssuer(), startLocalIssuer()]);
    verify = createTrustedIssuersVerifier([
      { issuer: github.issuer, audience: "https://airlock.example.com", mapping: githubActionsMapping({ owners: ["acme"] }), groups: ["agents"] },
      { issuer: cluster.issuer, audience: "airlock", mapping: kubernetesMapping() },
      { issuer: partner.issuer, audience: "airlock", mapping: oidcMapping({ groupsClaim: "roles", clientIds: ["etl-bot"], clientIdsSetting: "client_ids of issuer partner" }) },
    ]);
  });
  after(() => Promise.all([github, cluster, partner, stranger].map((i) => i.close())));

  async function refused(token: string, problem: TokenProblem, message: RegExp) {
    await assert.rejects(verify(token), (err: unknown) => {
      assert.ok(err instanceof TokenError, `expected TokenError, got ${String(err)}`);
      assert.equal(err.problem, problem, err.message);
      assert.match(err.message, message);
      return true;
    });
  }

  test("a GitHub Actions token gets its mapping's id and groups, plus the entry's", async () => {
    const identity = await verify(await github.mint(githubActionsClaims({ repository: "acme/etl", environment: "production" }), { audience: "https://airlock.example.com" }));
    assert.equal(identity.agentId, "repo:acme/etl:environment:production");
    assert.equal(identity.issuer, github.issuer);
    assert.deepEqual(identity.groups, ["github:acme", "github:acme/etl", "github:acme/etl:ref:refs/heads/main", "github:acme/etl:environment:production", "agents"]);
    assert.ok(identity.expiresAt > Date.now() / 1000);
  });

  test("a Kubernetes token gets the service account's id and groups", async () => {
    const identity = await verify(await cluster.mint(kubernetesClaims("etl", "reporter"), { audience: ["airlock", "https://kubernetes.default.svc"] }));
    assert.equal(identity.agentId, "system:serviceaccount:etl:reporter");
    assert.deepEqual(identity.groups, ["system:serviceaccounts", "system:serviceaccounts:etl"]);
  });

  test("a client-credentials token of another IdP is its subject, with its groups claim", async () => {
    const identity = await verify(await partner.mint({ sub: "etl-bot", client_id: "etl-bot", roles: ["agents", "analytics"] }));
    assert.deepEqual([identity.agentId, identity.groups], ["etl-bot", ["agents", "analytics"]]);
    await refused(await partner.mint({ sub: "alice", client_id: "partner-portal" }), "client", /client_ids of issuer partner/);
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
