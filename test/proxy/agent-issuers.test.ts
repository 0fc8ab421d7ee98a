import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { importJWK, SignJWT, type JWK } from "jose";
import pg from "pg";
import { startProxyHarness, type ProxyHarness } from "../support/proxy-harness";
import { makeTempDir } from "../support/temp-dir";
import { githubActionsClaims, kubernetesClaims } from "../support/workload-claims";
import { startWorkloadIdp, type WorkloadIdp } from "../support/workload-idp";

/**
 * Each group a mapping gives is something the policy can name, as any IdP group, under its
 * entry's name. refunds-reviewed holds everyone's reads of refunds, so a grant decides who skips it.
 */
const RULES = `rules:
  - name: refunds-reviewed
    match: { kinds: [select], tables: [refunds] }
    action: review
    review: { approvers: [db-approvers] }
  - name: no-ci-writes
    match: { groups: [ci], kinds: [insert, update, delete] }
    action: deny
  - name: production-etl-reads
    match: { groups: ["github:acme/etl:environment:production"], kinds: [select] }
    action: allow
  - name: etl-namespace-reads
    match: { groups: ["cluster:system:serviceaccounts:etl"], kinds: [select] }
    action: allow
  - name: seeded-agents-read
    match: { groups: [agents], kinds: [select] }
    action: allow`;

/** The audience the jobs ask GitHub for, as the recipe says; without one GitHub gives its owner's URL. */
const GITHUB_AUDIENCE = "https://airlock.example.com";
const GITHUB_DEFAULT_AUDIENCE = "https://github.com/acme";
const PRODUCTION_JOB = "github:repo:acme/etl:environment:production";

/** The jobs GitHub's stand-in gives tokens to, each a client of it with its job's claims. */
const JOBS = {
  production: githubActionsClaims({ repository: "acme/etl", environment: "production" }),
  feature: githubActionsClaims({ repository: "acme/etl", ref: "refs/heads/feature" }),
  main: githubActionsClaims({ repository: "acme/etl" }),
  mallory: githubActionsClaims({ repository: "mallory/etl" }),
};

/**
 * Every issuer here is a real OpenID Provider (oidc-provider, configured as the development IdP's
 * agent tokens are) on loopback, and every token is fetched from it over HTTP by the
 * client-credentials grant: stand-ins for GitHub Actions, two Kubernetes clusters, a partner's IdP,
 * and a GitHub Enterprise Server nobody listed.
 */
describe("agents with their platform's tokens, through the proxy (AGENT_ISSUERS_FILE)", () => {
  let github: WorkloadIdp;
  let cluster: WorkloadIdp;
  let staging: WorkloadIdp;
  let partner: WorkloadIdp;
  let stranger: WorkloadIdp;
  let harness: ProxyHarness;
  const dir = makeTempDir("agent-issuers");

  before(async () => {
    [github, cluster, staging, partner, stranger] = await Promise.all([
      startWorkloadIdp({ audience: GITHUB_DEFAULT_AUDIENCE, otherAudiences: [GITHUB_AUDIENCE], clients: JOBS }),
      startWorkloadIdp({
        audience: "airlock",
        clients: {
          "etl-reporter": kubernetesClaims("etl", "reporter"),
          "default-reporter": kubernetesClaims("default", "reporter"),
          // An issuer that signs whatever it is told: a GitHub job's claims from the cluster's keys.
          "github-shaped": JOBS.main,
        },
      }),
      startWorkloadIdp({ audience: "airlock", clients: { "etl-reporter": kubernetesClaims("etl", "reporter") } }),
      // An oidc issuer can mint any subject and groups: here the GitHub job's id and groups.
      startWorkloadIdp({ audience: "airlock", clients: { "etl-bot": { sub: PRODUCTION_JOB, groups: ["github:acme/etl:environment:production", "cluster:system:serviceaccounts:etl", "ci"] } } }),
      startWorkloadIdp({ audience: GITHUB_AUDIENCE, clients: { main: JOBS.main } }),
    ]);
    const file = path.join(dir.path, "agent-issuers.yaml");
    fs.writeFileSync(
      file,
      `issuers:
  - { name: github, mapping: github-actions, issuer: "${github.issuer}", audience: "${GITHUB_AUDIENCE}", owners: [acme], groups: [ci] }
  - { name: cluster, mapping: kubernetes, issuer: "${cluster.issuer}", audience: airlock }
  - { name: staging, mapping: kubernetes, issuer: "${staging.issuer}", audience: airlock }
  - { name: partner, mapping: oidc, issuer: "${partner.issuer}", audience: airlock, client_ids: [etl-bot] }
`,
    );
    harness = await startProxyHarness({ demo: "pglite://demo" }, { env: { AGENT_ISSUERS_FILE: file }, rules: RULES });
  });
  after(async () => {
    await harness?.close();
    await Promise.all([github, cluster, staging, partner, stranger].map((i) => i?.close()));
    dir.remove();
  });

  // Return mode: a statement that needs approval is refused at once rather than left waiting.
  const client = (user: string, token: string) => new pg.Client({ host: "127.0.0.1", port: harness.proxy.port, user, password: token, database: "demo", application_name: "agent-issuers airlock-mode=return" });

  async function connected(user: string, token: string) {
    const agent = client(user, token);
    await agent.connect();
    return agent;
  }

  async function loginRefused(user: string, token: string, reason: RegExp) {
    await assert.rejects(client(user, token).connect(), (err: { code?: string; severity?: string; message: string }) => {
      assert.equal(err.code, "28P01", err.message);
      assert.equal(err.severity, "FATAL");
      assert.match(err.message, reason);
      assert.doesNotMatch(err.message, /eyJ/, "no token material in the message");
      return true;
    });
  }

  /** The groups the proxy gave an open session of `agentId`, as the Sessions page shows them. */
  function sessionGroups(agentId: string) {
    const sessions = harness.live.list().filter((session) => session.agentId === agentId);
    assert.equal(sessions.length, 1, `one open session of ${agentId}`);
    return [...sessions[0].groups].sort();
  }

  async function policyRefused(agent: pg.Client, sql: string, reason: RegExp) {
    await assert.rejects(agent.query(sql), (err: { code?: string; message: string }) => err.code === "42501" && reason.test(err.message));
  }

  const githubToken = (job: keyof typeof JOBS) => github.token(job, { audience: GITHUB_AUDIENCE });

  /**
   * A token of the default issuer with the subject and groups given. The development IdP issues
   * tokens for its seeded agents only, while an AGENT_OIDC_ISSUER may issue any subject and groups;
   * so this one is signed here with the development IdP's own key, as it would sign such a token.
   */
  async function defaultIssuerToken(sub: string, groups: string[]) {
    const jwk = harness.idp.secrets.signingKey as JWK;
    return new SignJWT({ groups, client_id: "reporting-agent" })
      .setProtectedHeader({ alg: "RS256", kid: jwk.kid })
      .setSubject(sub)
      .setIssuer(harness.idp.issuer)
      .setAudience(harness.idp.audience)
      .setExpirationTime("10m")
      .sign(await importJWK(jwk, "RS256"));
  }

  test("a GitHub Actions job in the production environment connects as its repository there, under its entry's name, and reads", async () => {
    const agent = await connected(PRODUCTION_JOB, await githubToken("production"));
    try {
      assert.deepEqual((await agent.query("select 1 as one")).rows, [{ one: 1 }]);
      assert.deepEqual(sessionGroups(PRODUCTION_JOB), ["ci", "github:acme", "github:acme/etl", "github:acme/etl:environment:production", "github:acme/etl:ref:refs/heads/main"]);
      // The entry's own group (ci, unprefixed: the administrator's choice) reaches the policy too.
      await policyRefused(agent, "insert into customers (name) values ('x')", /no-ci-writes/);
    } finally {
      await agent.end();
    }
    // GitHub's own sub is not the agent id: the entry's name comes first.
    await loginRefused("repo:acme/etl:environment:production", await githubToken("production"), /belongs to another agent/);
  });

  test("the same repository's job outside the environment logs in, but no rule gives its groups a read", async () => {
    const agent = await connected("github:repo:acme/etl:ref:refs/heads/feature", await githubToken("feature"));
    try {
      await policyRefused(agent, "select 1", /no rule allows/);
      assert.deepEqual(sessionGroups("github:repo:acme/etl:ref:refs/heads/feature"), ["ci", "github:acme", "github:acme/etl", "github:acme/etl:ref:refs/heads/feature"]);
    } finally {
      await agent.end();
    }
  });

  test("a Kubernetes service account connects by its cluster's entry name and its Kubernetes name; its namespace group decides", async () => {
    const etl = await connected("cluster:system:serviceaccount:etl:reporter", await cluster.token("etl-reporter"));
    const other = await connected("cluster:system:serviceaccount:default:reporter", await cluster.token("default-reporter"));
    try {
      assert.deepEqual((await etl.query("select 2 as two")).rows, [{ two: 2 }]);
      assert.deepEqual(sessionGroups("cluster:system:serviceaccount:etl:reporter"), ["cluster:system:serviceaccounts", "cluster:system:serviceaccounts:etl"]);
      await policyRefused(other, "select 2", /no rule allows/);
    } finally {
      await Promise.all([etl.end(), other.end()]);
    }
  });

  test("the same service account in another cluster is another agent, and the first cluster's rule is not its", async () => {
    const token = await staging.token("etl-reporter");
    await loginRefused("cluster:system:serviceaccount:etl:reporter", token, /belongs to another agent/);
    const agent = await connected("staging:system:serviceaccount:etl:reporter", token);
    try {
      await policyRefused(agent, "select 2", /no rule allows/);
      assert.deepEqual(sessionGroups("staging:system:serviceaccount:etl:reporter"), ["staging:system:serviceaccounts", "staging:system:serviceaccounts:etl"]);
    } finally {
      await agent.end();
    }
  });

  test("an oidc issuer minting the GitHub job's id and groups is its own agent: neither the job's rules nor its grant are its", async () => {
    const grant = await harness.grants.create({
      agentId: PRODUCTION_JOB,
      resource: "demo",
      scope: [{ kind: "select", table: "public.refunds" }],
      rule: "refunds-reviewed",
      requestId: "r_agent_issuers",
      approvedBy: ["alice@example.com"],
      createdAt: new Date(),
      expiresAt: new Date(Date.now() + 10 * 60_000),
    });
    const job = await connected(PRODUCTION_JOB, await githubToken("production"));
    const token = await partner.token("etl-bot");
    await loginRefused(PRODUCTION_JOB, token, /belongs to another agent/);
    const impostor = await connected(`partner:${PRODUCTION_JOB}`, token);
    try {
      assert.equal((await job.query("select count(*)::int as n from refunds")).rows.length, 1, "the job's grant covers its read");
      await policyRefused(impostor, "select count(*)::int as n from refunds", /approval required by rule refunds-reviewed/);
      await policyRefused(impostor, "select 1", /no rule allows/);
      assert.deepEqual(sessionGroups(`partner:${PRODUCTION_JOB}`), ["partner:ci", "partner:cluster:system:serviceaccounts:etl", "partner:github:acme/etl:environment:production"]);
    } finally {
      await Promise.all([job.end(), impostor.end()]);
      await harness.grants.revoke(grant.id, "alice@example.com");
    }
  });

  test("the default issuer's agents connect as before", async () => {
    const agent = await connected("reporting-agent", await harness.idp.token("reporting-agent"));
    try {
      assert.deepEqual((await agent.query("select 3 as three")).rows, [{ three: 3 }]);
    } finally {
      await agent.end();
    }
  });

  test("a default-issuer token whose subject or a group lies in an entry's namespace is refused with FATAL 28P01", async () => {
    await loginRefused(PRODUCTION_JOB, await defaultIssuerToken(PRODUCTION_JOB, ["agents"]), /token subject is in the namespace of agent issuer github/);
    await loginRefused("mallory", await defaultIssuerToken("mallory", ["agents", "cluster:system:serviceaccounts:etl"]), /token group is in the namespace of agent issuer cluster/);
  });

  test("an issuer not in the list is refused with FATAL 28P01", async () => {
    const token = await stranger.token("main");
    await loginRefused("github:repo:acme/etl:ref:refs/heads/main", token, new RegExp(`token issuer ${stranger.issuer} is not a trusted agent issuer`));
  });

  test("a token for another audience (a job that asked for none gets GitHub's default) is refused with FATAL 28P01", async () => {
    await loginRefused("github:repo:acme/etl:ref:refs/heads/main", await github.token("main"), /token audience is not "https:\/\/airlock.example.com"/);
  });

  test("a GitHub-shaped token from the cluster's issuer is refused with FATAL 28P01", async () => {
    const token = await cluster.token("github-shaped");
    await loginRefused("github:repo:acme/etl:ref:refs/heads/main", token, /token is not a Kubernetes service-account token/);
  });

  test("a repository of another owner is refused with FATAL 28P01", async () => {
    await loginRefused("github:repo:mallory/etl:ref:refs/heads/main", await githubToken("mallory"), /repository mallory\/etl is not allowed to connect/);
  });

  test("a user name other than the mapped agent id is refused with FATAL 28P01", async () => {
    await loginRefused("reporting-agent", await githubToken("main"), /belongs to another agent/);
  });
});
