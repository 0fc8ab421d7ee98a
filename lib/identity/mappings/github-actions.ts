import { optionalText, requiredText, type ClaimMapping } from "../claim-mapping";
import { TokenError } from "../token-error";

/**
 * Which workflows may connect. GitHub's issuer signs a token for any repository on GitHub that
 * asks, with any audience it names: the signature proves only that GitHub ran the job, so an entry
 * must say whose jobs are agents. Names compare case-insensitively, as GitHub's do.
 */
export interface GithubActionsAllowList {
  /** `repository_owner` values: every repository of these organizations or users. */
  owners?: readonly string[];
  /** `repository` values (`owner/name`). */
  repositories?: readonly string[];
  /**
   * `repository_owner_id` values, checked besides the names: a name can change hands (an
   * organization renamed or deleted, its name taken by someone else), GitHub's numeric id cannot.
   */
  ownerIds?: readonly string[];
}

const SHAPE = "a GitHub Actions token";

/**
 * GitHub Actions' OIDC token (`permissions: id-token: write`). The agent id is the job's place
 * in the repository, in the form of GitHub's default `sub`: `repo:OWNER/NAME:environment:ENV` for
 * a job in a deployment environment (whose protection rules GitHub enforces), otherwise
 * `repo:OWNER/NAME:ref:REF`. It is built from the claims, not read from `sub`, because an
 * organization may customize `sub`. Groups: `OWNER`, `OWNER/NAME`, `OWNER/NAME:ref:REF` and, in an
 * environment, `OWNER/NAME:environment:ENV`, all in lower case but for REF. Neither carries a
 * prefix of its own: the issuer entry's name is put before both (entry `github`: `github:acme/etl`).
 */
export function githubActionsMapping(allow: GithubActionsAllowList): ClaimMapping {
  const owners = new Set(allow.owners?.map(lower));
  const repositories = new Set(allow.repositories?.map(lower));
  return (claims) => {
    const owner = requiredText(claims, "repository_owner", SHAPE);
    const repository = requiredText(claims, "repository", SHAPE);
    const ref = requiredText(claims, "ref", SHAPE);
    const environment = optionalText(claims, "environment", SHAPE);
    if (!lower(repository).startsWith(`${lower(owner)}/`)) throw new TokenError("claims", `token is not ${SHAPE}: "repository" is not in "repository_owner"`);
    if (!owners.has(lower(owner)) && !repositories.has(lower(repository))) {
      throw new TokenError("not-allowed", `repository ${repository} is not allowed to connect (owners/repositories of its issuer entry)`);
    }
    if (allow.ownerIds && !allow.ownerIds.includes(requiredText(claims, "repository_owner_id", SHAPE))) {
      throw new TokenError("not-allowed", `the owner of ${repository} is not the one allowed to connect (owner_ids of its issuer entry)`);
    }
    // Groups in lower case but for the ref (git's refs are case-sensitive, GitHub's names are not):
    // policy compares groups exactly, and a rule written "github:acme/etl" must match the jobs of
    // "Acme/ETL" as the allow list above does, or a deny rule for them would silently never match.
    const [o, repo, env] = [lower(owner), lower(repository), environment && lower(environment)];
    const groups = [o, repo, `${repo}:ref:${ref}`];
    if (env) groups.push(`${repo}:environment:${env}`);
    return { agentId: environment ? `repo:${repository}:environment:${environment}` : `repo:${repository}:ref:${ref}`, groups };
  };
}

function lower(name: string): string {
  return name.toLowerCase();
}
