import { test } from "node:test";
import assert from "node:assert/strict";
import { githubActionsClaims, kubernetesClaims } from "../../../test/support/workload-claims";
import { TokenError, type TokenProblem } from "../token-error";
import { githubActionsMapping } from "./github-actions";

const acme = githubActionsMapping({ owners: ["acme"] });

function refused(run: () => unknown, problem: TokenProblem, message: RegExp) {
  assert.throws(run, (err: unknown) => err instanceof TokenError && err.problem === problem && message.test(err.message));
}

test("a job on a branch is the repository at that ref; its groups name owner, repository and ref", () => {
  assert.deepEqual(acme(githubActionsClaims({ repository: "acme/etl", ref: "refs/heads/main" })), {
    agentId: "repo:acme/etl:ref:refs/heads/main",
    groups: ["acme", "acme/etl", "acme/etl:ref:refs/heads/main"],
  });
});

test("a job in a deployment environment is the repository in that environment, and gets its group too", () => {
  const agent = acme(githubActionsClaims({ repository: "acme/etl", ref: "refs/heads/release", environment: "production" }));
  assert.equal(agent.agentId, "repo:acme/etl:environment:production");
  assert.ok(agent.groups.includes("acme/etl:environment:production"));
  assert.ok(agent.groups.includes("acme/etl:ref:refs/heads/release"));
});

test("the id comes from the claims, not from a customized sub", () => {
  const agent = acme({ ...githubActionsClaims({ repository: "acme/etl" }), sub: "repo:acme/etl:workflow:nightly" });
  assert.equal(agent.agentId, "repo:acme/etl:ref:refs/heads/main");
});

test("only the listed owners' or repositories' jobs connect, names compared as GitHub does (any case)", () => {
  assert.equal(githubActionsMapping({ owners: ["ACME"] })(githubActionsClaims({ repository: "acme/etl" })).agentId, "repo:acme/etl:ref:refs/heads/main");
  const oneRepo = githubActionsMapping({ repositories: ["acme/etl"] });
  assert.equal(oneRepo(githubActionsClaims({ repository: "Acme/ETL" })).agentId, "repo:Acme/ETL:ref:refs/heads/main");
  refused(() => oneRepo(githubActionsClaims({ repository: "acme/website" })), "not-allowed", /acme\/website is not allowed/);
  refused(() => acme(githubActionsClaims({ repository: "evil/etl" })), "not-allowed", /evil\/etl is not allowed/);
});

test("groups are in lower case but for the ref, so a rule names a repository however GitHub spells it", () => {
  const agent = acme(githubActionsClaims({ repository: "Acme/ETL", ref: "refs/heads/Release", environment: "Production" }));
  assert.equal(agent.agentId, "repo:Acme/ETL:environment:Production");
  assert.deepEqual(agent.groups, ["acme", "acme/etl", "acme/etl:ref:refs/heads/Release", "acme/etl:environment:production"]);
});

test("a token of another shape is refused, naming what is missing", () => {
  refused(() => acme(kubernetesClaims("etl", "reporter")), "claims", /not a GitHub Actions token: claim "repository_owner" is missing/);
  const { ref: _ref, ...noRef } = githubActionsClaims({ repository: "acme/etl" });
  refused(() => acme(noRef), "claims", /claim "ref" is missing/);
  refused(() => acme({ ...githubActionsClaims({ repository: "acme/etl" }), environment: 7 }), "claims", /claim "environment" is not a string/);
});

test("a repository outside its claimed owner is refused (an allowed owner cannot be borrowed)", () => {
  refused(() => acme({ ...githubActionsClaims({ repository: "evil/etl" }), repository_owner: "acme" }), "claims", /"repository" is not in "repository_owner"/);
});

test("with owner_ids, a listed owner's name is not enough: its id must match too", () => {
  const pinned = githubActionsMapping({ owners: ["acme"], ownerIds: ["1234567"] });
  assert.equal(pinned(githubActionsClaims({ repository: "acme/etl" })).agentId, "repo:acme/etl:ref:refs/heads/main");
  refused(() => pinned({ ...githubActionsClaims({ repository: "acme/etl" }), repository_owner_id: "999" }), "not-allowed", /owner of acme\/etl is not the one allowed to connect \(owner_ids/);
  const { repository_owner_id: _id, ...noId } = githubActionsClaims({ repository: "acme/etl" });
  refused(() => pinned(noId), "claims", /claim "repository_owner_id" is missing/);
});
