"use server";

import { z } from "zod";
import { personForAction } from "@/app/current-person";
import { explain, type Explanation } from "@/lib/policy/explain";

const Input = z.object({
  agent: z.string().trim().min(1, "name an agent"),
  groups: z.string().trim(),
  resource: z.string().min(1, "pick a resource"),
  sql: z.string().trim().min(1, "type a statement").max(100_000),
});

export type ExplainResult = { ok: true; explanation: Explanation } | { ok: false; error: string };

/** The Policy page's explain box: which rule would decide this agent's statement, and why. */
export async function explainStatement(_previous: ExplainResult | undefined, form: FormData): Promise<ExplainResult> {
  const asker = await personForAction("console.read");
  if (!("person" in asker)) return asker;
  const input = Input.safeParse(Object.fromEntries(form));
  if (!input.success) return { ok: false, error: input.error.issues.map((i) => i.message).join("; ") };
  const { agent, groups, resource: name, sql } = input.data;
  const { rt } = asker;
  const policy = rt.policy.current;
  const resource = policy.resources.get(name);
  if (!resource) return { ok: false, error: `the policy has no resource "${name}"` };
  try {
    const classifier = await rt.classifiers.forResource(resource);
    const who = { agentId: agent, groups: groups.split(",").map((g) => g.trim()).filter(Boolean), resource: name };
    return { ok: true, explanation: explain(policy, who, classifier.classify(sql), classifier.catalog) };
  } catch (err) {
    return { ok: false, error: `cannot read the catalog of "${name}": ${err instanceof Error ? err.message : String(err)}` };
  }
}
