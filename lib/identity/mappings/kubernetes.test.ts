import { test } from "node:test";
import assert from "node:assert/strict";
import { githubActionsClaims, kubernetesClaims } from "../../../test/support/workload-claims";
import { TokenError, type TokenProblem } from "../token-error";
import { kubernetesMapping } from "./kubernetes";

function refused(run: () => unknown, problem: TokenProblem, message: RegExp) {
  assert.throws(run, (err: unknown) => err instanceof TokenError && err.problem === problem && message.test(err.message));
}

test("a service account is its Kubernetes user name, in the groups Kubernetes gives it", () => {
  assert.deepEqual(kubernetesMapping()(kubernetesClaims("etl", "reporter")), {
    agentId: "system:serviceaccount:etl:reporter",
    groups: ["system:serviceaccounts", "system:serviceaccounts:etl"],
  });
});

test("with namespaces listed, only their accounts connect", () => {
  const etlOnly = kubernetesMapping(["etl"]);
  assert.equal(etlOnly(kubernetesClaims("etl", "reporter")).agentId, "system:serviceaccount:etl:reporter");
  refused(() => etlOnly(kubernetesClaims("default", "reporter")), "not-allowed", /namespace default is not allowed/);
});

test("a token of another shape is refused: a GitHub-shaped one, a person's, a legacy secret token", () => {
  refused(() => kubernetesMapping()(githubActionsClaims({ repository: "acme/etl" })), "claims", /not a Kubernetes service-account token: "sub" is not system:serviceaccount/);
  refused(() => kubernetesMapping()({ sub: "alice@example.com" }), "claims", /"sub" is not system:serviceaccount/);
  refused(() => kubernetesMapping()({ sub: "system:serviceaccount:etl:reporter", "kubernetes.io/serviceaccount/namespace": "etl" }), "claims", /"kubernetes.io" claim/);
});

test("the bound claims must name the subject's account", () => {
  const other = { ...kubernetesClaims("etl", "reporter"), sub: "system:serviceaccount:kube-system:admin" };
  refused(() => kubernetesMapping()(other), "claims", /does not name the subject's namespace and service account/);
  refused(() => kubernetesMapping()({ sub: "system:serviceaccount:etl:a:b", "kubernetes.io": { namespace: "etl" } }), "claims", /"sub" is not/);
});
