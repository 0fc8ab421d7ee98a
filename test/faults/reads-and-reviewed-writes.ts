import fs from "node:fs";
import path from "node:path";

/** The fault tests' policy file in `dir`: reads of `targetUrl` allowed, updates held for db-approvers; returns its path. */
export function writeFaultPolicy(dir: string, targetUrl: string): string {
  const policy = path.join(dir, "airlock.policy.yaml");
  fs.writeFileSync(
    policy,
    [
      "resources:",
      `  pg: { type: postgres, url: "${targetUrl}" }`,
      "rules:",
      "  - { name: reads, match: { kinds: [select] }, action: allow }",
      "  - name: writes",
      "    match: { kinds: [update] }",
      "    action: review",
      "    review: { approvers: [db-approvers], grants: [once], timeout: 2m }",
      "",
    ].join("\n"),
  );
  return policy;
}
