import type { Policy } from "./policy-file";

const known = new WeakMap<Policy, boolean>();

/**
 * Whether any rule of the policy filters rows (its `rows:`). Without one no statement is ever
 * rewritten, so the proxy need not decide a Parse's text once more only to find no rewrite.
 * Kept per policy object: a reloaded policy is a new one.
 */
export function filtersRows(policy: Policy): boolean {
  let filters = known.get(policy);
  if (filters === undefined) known.set(policy, (filters = policy.rules.some((rule) => (rule.rows?.length ?? 0) > 0)));
  return filters;
}
