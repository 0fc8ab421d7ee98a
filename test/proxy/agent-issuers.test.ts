import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import pg from "pg";
import { startProxyHarness, type ProxyHarness } from "../support/proxy-harness";
import { makeTempDir } from "../support/temp-dir";
import { githubActionsClaims, kubernetesClaims, startLocalIssuer, type LocalIssuer } from "../support/token-issuer";

/** Each group a mapping gives is something the policy can name, as any IdP group. */
const RULES = `rules:
  - name: no-ci-writes
    match: { groups: [ci], kinds: [insert, update, delete] }
    action: deny
  - name: production-etl-reads
    match: { groups: ["github:acme/etl:environment:production"], kinds: [select] }
    action: allow
  - name: etl-namespace-reads
    match: { groups: ["system:serviceaccounts:etl"], kinds: [select] }
    action: allow
  - name: seeded-agents-read
    match: { groups: [agents], kinds: [select] }
    action: allow`;

const GITHUB_AUDIENCE = "https://airlock.example.com";

describe("agents with their platform's tokens, through the proxy (AGENT_ISSUERS_FILE)", () => {
  let github: LocalIssuer;
  let cluster: LocalIssuer;
  let stranger: LocalIssuer;
  let harness: ProxyHarness;
  const dir = makeTempDir("agent-issuers");

  before(async () => {
    [github, cluster, stranger] = await Promise.all([startLocalIssuer(), startLocalIssuer(), startLocalIssuer()]);
    const file = path.join(dir.path, "agent-issuers.yaml");
    fs.writeFileSync(
      file,
      `issuers:
  - { name: github, mapping: github-actions, issuer: "${github.issuer}", audience: "${GITHUB_AUDIENCE}", owners: [acme], groups: [ci] }
  - { name: cluster, mapping: kubernetes, issuer: "${cluster.issuer}", audience: airlock }
`,
    );
    harness = await startProxyHarness({ demo: "pglite://demo" }, { env: { AGENT_ISSUERS_FILE: file }, rules: RULES });
  });
  after(async () => {
    await harness?.close();
    await Promise.all([github, cluster, stranger].map((i) => i?.close()));
    dir.remove();
  });

  const client = (user: string, token: string) => new pg.Client({ host: "127.0.0.1", port: harness.proxy.port, user, password: token, database: "demo" });

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

  async function policyRefused(agent: pg.Client, sql: string, reason: RegExp) {
    await assert.rejects(agent.query(sql), (err: { code?: string; message: string }) => err.code === "42501" && reason.test(err.message));
  }

  const githubToken = (claims: Parameters<typeof githubActionsClaims>[0], audience = GITHUB_AUDIENCE) => github.mint(githubActionsClaims(claims), { audience });

  test("a GitHub Actions job in the production environment connects as its repository there, and reads", async () => {
    const agent = await connected("repo:acme/etl:environment:production", await githubToken({ repository: "acme/etl", environment: "production" }));
    try {
      assert.deepEqual((await agent.query("select 1 as one")).rows, [{ one: 1 }]);
      // The entry's own group (ci) reaches the policy too.
      await policyRefused(agent, "insert into customers (name) values ('x')", /no-ci-writes/);
    } finally {
      await agent.end();
    }
  });

  test("the same repository's job outside the environment logs in, but no rule gives its groups a read", async () => {
    const agent = await connected("repo:acme/etl:ref:refs/heads/feature", await githubToken({ repository: "acme/etl", ref: "refs/heads/feature" }));
    try {
      await policyRefused(agent, "select 1", /no rule allows/);
    } finally {
      await agent.end();
    }
  });

  test("a Kubernetes service account connects by its Kubernetes name; its namespace group decides", async () => {
    const etl = await connected("system:serviceaccount:etl:reporter", await cluster.mint(kubernetesClaims("etl", "reporter")));
    const other = await connected("system:serviceaccount:default:reporter", await cluster.mint(kubernetesClaims("default", "reporter")));
    try {
      assert.deepEqual((await etl.query("select 2 as two")).rows, [{ two: 2 }]);
      await policyRefused(other, "select 2", /no rule allows/);
    } finally {
      await Promise.all([etl.end(), other.end()]);
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

  test("an issuer not in the list is refused with FATAL 28P01", async () => {
    const token = await stranger.mint(githubActionsClaims({ repository: "acme/etl" }), { audience: GITHUB_AUDIENCE });
    await loginRefused("repo:acme/etl:ref:refs/heads/main", token, new RegExp(`token issuer ${stranger.issuer} is not a trusted agent issuer`));
  });

  test("a token for another audience is refused with FATAL 28P01", async () => {
    await loginRefused("repo:acme/etl:ref:refs/heads/main", await githubToken({ repository: "acme/etl" }, "airlock"), /token audience is not "https:\/\/airlock.example.com"/);
  });

  test("a GitHub-shaped token from the cluster's issuer is refused with FATAL 28P01", async () => {
    const token = await cluster.mint(githubActionsClaims({ repository: "acme/etl" }));
    await loginRefused("repo:acme/etl:ref:refs/heads/main", token, /token is not a Kubernetes service-account token/);
  });

  test("a repository of another owner is refused with FATAL 28P01", async () => {
    await loginRefused("repo:mallory/etl:ref:refs/heads/main", await githubToken({ repository: "mallory/etl" }), /repository mallory\/etl is not allowed to connect/);
  });

  test("a user name other than the mapped agent id is refused with FATAL 28P01", async () => {
    await loginRefused("reporting-agent", await githubToken({ repository: "acme/etl" }), /belongs to another agent/);
  });
});
