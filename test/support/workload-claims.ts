/**
 * The claims workload platforms put in their tokens, for the tests' stand-ins of those platforms'
 * issuers (test/support/workload-idp.ts) and for the mappings' own tests.
 */

/** The claims of a GitHub Actions job's OIDC token (docs.github.com, "About security hardening with OpenID Connect"). */
export function githubActionsClaims(options: { repository: string; ref?: string; environment?: string }): Record<string, unknown> {
  const [owner] = options.repository.split("/");
  const ref = options.ref ?? "refs/heads/main";
  return {
    sub: options.environment ? `repo:${options.repository}:environment:${options.environment}` : `repo:${options.repository}:ref:${ref}`,
    repository: options.repository,
    repository_owner: owner,
    repository_owner_id: "1234567",
    ref,
    ref_type: "branch",
    sha: "0123456789abcdef0123456789abcdef01234567",
    workflow: "nightly",
    job_workflow_ref: `${options.repository}/.github/workflows/nightly.yml@${ref}`,
    actor: "octocat",
    run_id: "42",
    runner_environment: "github-hosted",
    ...(options.environment ? { environment: options.environment } : {}),
  };
}

/** The claims of a projected service-account token from the TokenRequest API. */
export function kubernetesClaims(namespace: string, name: string): Record<string, unknown> {
  return {
    sub: `system:serviceaccount:${namespace}:${name}`,
    "kubernetes.io": {
      namespace,
      pod: { name: `${name}-7d4b9c-abcde`, uid: "6f0c2c1e-1111-4c8e-9a0b-000000000001" },
      serviceaccount: { name, uid: "6f0c2c1e-2222-4c8e-9a0b-000000000002" },
    },
  };
}
