import { isMap, isScalar, LineCounter, parseDocument, type Document } from "yaml";
import { z } from "zod";
import { KINDS, type Kind } from "../sql/types";
import { DurationText as duration, parseDuration } from "./duration";
import { expandEnv, type Env } from "./env";
import { breakGlassOf, BreakGlassSchema, type BreakGlassOptions } from "./break-glass";
import { checkFollowUp, followUpFields, followUpOf, type FollowUp } from "./follow-up";
import { NotifySchema, resolveWebhooks, type Webhook } from "./notify";
import { rowFiltersOf, RowsSchema } from "./row-filters";
import type { CompiledRowFilter } from "../sql/row-filter";
import { limitsOf, LimitsSchema, type RuleLimits } from "./limits";
import { previewFields, previewOf, type PreviewOptions } from "./preview";
import { stepUpFields, stepUpOf } from "./step-up";
import { undoFields, undoOf } from "./undo";

/** A database agents may reach, as the policy file names it. */
export interface Resource {
  name: string;
  type: "postgres";
  /** `pglite://NAME` for the embedded demo database, `postgres://…` for PostgreSQL; ${ENV} expanded. */
  url: string;
}

export type RuleAction = "allow" | "deny" | "review";

export interface RuleMatch {
  agents?: string[];
  groups?: string[];
  resources?: string[];
  kinds?: Kind[];
  tables?: string[];
  functions?: string[];
}

export interface ReviewOptions {
  approvers: string[];
  count: number;
  timeoutMs: number;
  /** What an approver may grant: "once" and/or durations in ms. */
  grants: Array<"once" | number>;
  slackChannel?: string;
  /** "return": refuse at once with the request id instead of holding the connection. */
  mode: "wait" | "return";
  /** Reminders and escalation while a request waits (lib/approvals/follow-ups.ts). */
  followUp?: FollowUp;
  /** The impact preview's dry run (review.preview: count) and its timeout; without it, estimates only (lib/approvals/preview). */
  preview?: PreviewOptions;
  /** A decision counts only from a person who signed in to the IdP within this long (lib/approvals/step-up.ts). */
  stepUpMs?: number;
  /** Keep the prior values of the rows an approved write changes this long, so it can be reverted (lib/approvals/undo). */
  undoMs?: number;
}

/**
 * A review rule may also let agents ask up front for time-boxed access to what it reviews
 * (an access request); who approves and how many default to the rule's review options.
 */
export interface AccessOptions {
  approvers: string[];
  count: number;
  /** The longest access an agent may ask for. */
  maxMs: number;
  /** How long the request waits for people before it expires. */
  timeoutMs: number;
  /** The agent must say why it asks. */
  reasonRequired: boolean;
}

export interface MaskOptions {
  columns: string[];
  detect: Array<"email" | "card" | "ssn" | "phone" | "iban">;
  strategy: "partial" | "redact" | "hash" | "null";
}

export interface Rule {
  name: string;
  /** 1-based line of the rule in the file, for explanations. */
  line?: number;
  match: RuleMatch;
  action: RuleAction;
  /** Shown to the agent when this rule refuses. */
  reason?: string;
  review?: ReviewOptions;
  access?: AccessOptions;
  mask?: MaskOptions;
  /** Row filters (lib/sql/row-filter.ts): each table named here shows only the rows its filter lets through. */
  rows?: readonly CompiledRowFilter[];
  /** Budgets per agent (lib/policy/limits.ts): rate, rows, bytes, time. */
  limits?: RuleLimits;
}

export interface Policy {
  resources: ReadonlyMap<string, Resource>;
  /** In file order: the first rule that matches decides. */
  rules: readonly Rule[];
  /** Who else hears of what happens (lib/webhooks). */
  notify: { webhooks: readonly Webhook[] };
  /** Who may take emergency access without approval, and for how long (lib/access/break-glass.ts). */
  breakGlass?: BreakGlassOptions;
}

/** A problem in the policy file, pointing at the line and the field. */
export class PolicyError extends Error {
  constructor(
    readonly problems: Array<{ path: string; line?: number; message: string }>,
    readonly file?: string,
  ) {
    super(problems.map((p) => `${file ?? "policy"}${p.line ? `:${p.line}` : ""}: ${p.path ? `${p.path}: ` : ""}${p.message}`).join("\n"));
    this.name = "PolicyError";
  }
}

const ResourceSchema = z.strictObject({
  type: z.literal("postgres"),
  url: z.string().min(1),
});

const names = z.array(z.string().min(1)).min(1);

const MatchSchema = z.strictObject({
  agents: names.optional(),
  groups: names.optional(),
  resources: names.optional(),
  kinds: z.array(z.enum(KINDS)).min(1).optional(),
  tables: names.optional(),
  functions: names.optional(),
});

const ReviewSchema = z
  .strictObject({
    approvers: names,
    count: z.number().int().min(1).max(10).default(1),
    timeout: duration.default("10m"),
    grants: z.array(z.union([z.literal("once"), duration])).min(1).default(["once"]),
    slack_channel: z.string().min(1).optional(),
    mode: z.enum(["wait", "return"]).default("wait"),
    ...followUpFields,
    ...previewFields,
    ...stepUpFields,
    ...undoFields,
  })
  .superRefine(checkFollowUp);

const AccessSchema = z.strictObject({
  approvers: names.optional(),
  count: z.number().int().min(1).max(10).optional(),
  max: duration.default("1h"),
  timeout: duration.optional(),
  reason: z.enum(["required", "optional"]).default("optional"),
});

const MaskSchema = z.strictObject({
  columns: z.array(z.string().min(1)).default([]),
  detect: z.array(z.enum(["email", "card", "ssn", "phone", "iban"])).default([]),
  strategy: z.enum(["partial", "redact", "hash", "null"]).default("partial"),
});

const RuleSchema = z
  .strictObject({
    name: z.string().regex(/^[A-Za-z0-9_.-]+$/, "rule names are letters, digits, ., - and _"),
    match: MatchSchema.default({}),
    action: z.enum(["allow", "deny", "review"]),
    reason: z.string().min(1).optional(),
    review: ReviewSchema.optional(),
    access: AccessSchema.optional(),
    mask: MaskSchema.optional(),
    rows: RowsSchema.optional(),
    limits: LimitsSchema.optional(),
  })
  .refine((r) => r.action !== "review" || r.review, { message: "a review rule needs review: { approvers: [...] }", path: ["review"] })
  .refine((r) => r.action === "review" || !r.review, { message: "review options belong to review rules", path: ["review"] })
  // A grant stands in for review, never for a refusal: only what a rule reviews can be asked for.
  .refine((r) => r.action === "review" || !r.access, { message: "access options belong to review rules", path: ["access"] })
  .refine((r) => r.action === "allow" || !r.mask, { message: "mask options belong to allow rules", path: ["mask"] })
  .refine((r) => r.action !== "deny" || !r.rows, { message: "row filters belong to allow and review rules", path: ["rows"] })
  .refine((r) => r.action !== "deny" || !r.limits, { message: "limits belong to allow and review rules (a deny rule runs nothing)", path: ["limits"] });

const PolicySchema = z.strictObject({
  resources: z.record(z.string().regex(/^[A-Za-z0-9_-]+$/, "resource names are letters, digits, - and _"), ResourceSchema),
  rules: z.array(RuleSchema).default([]),
  notify: NotifySchema.optional(),
  break_glass: BreakGlassSchema.optional(),
});

/** Parses and validates a policy document; throws PolicyError naming line and field. */
export function parsePolicy(text: string, env: Env = process.env, file?: string): Policy {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new PolicyError(doc.errors.map((e) => ({ path: "", line: lineCounter.linePos(e.pos[0]).line, message: e.message.split("\n")[0] })), file);
  }
  const parsed = PolicySchema.safeParse(toJS(doc, text, lineCounter, file));
  if (!parsed.success) {
    throw new PolicyError(
      parsed.error.issues.map((issue) => ({
        path: issue.path.join("."),
        line: lineOf(doc, issue.path, lineCounter),
        message: issue.message,
      })),
      file,
    );
  }
  const resources = new Map<string, Resource>();
  const problems: Array<{ path: string; line?: number; message: string }> = [];
  for (const [name, r] of Object.entries(parsed.data.resources)) {
    try {
      const url = expandEnv(r.url, env);
      if (!/^(pglite|postgres|postgresql):\/\//.test(url)) throw new Error("must start with pglite://, postgres:// or postgresql://");
      resources.set(name, { name, type: r.type, url });
    } catch (err) {
      problems.push({ path: `resources.${name}.url`, line: lineOf(doc, ["resources", name, "url"], lineCounter), message: (err as Error).message });
    }
  }
  const notify = resolveWebhooks(parsed.data.notify, env, file);
  for (const p of notify.problems) problems.push({ path: p.path.join("."), line: lineOf(doc, p.path, lineCounter), message: p.message });
  const rules = parsed.data.rules.map((r, i): Rule => ({
    name: r.name,
    line: lineOf(doc, ["rules", i], lineCounter),
    match: r.match,
    action: r.action,
    reason: r.reason,
    review: r.review && {
      approvers: r.review.approvers,
      count: r.review.count,
      timeoutMs: parseDuration(r.review.timeout)!,
      grants: r.review.grants.map((g) => (g === "once" ? "once" : parseDuration(g)!)),
      slackChannel: r.review.slack_channel,
      mode: r.review.mode,
      followUp: followUpOf(r.review),
      ...previewOf(r.review),
      ...stepUpOf(r.review),
      ...undoOf(r.review),
    },
    access: r.review && r.access && {
      approvers: r.access.approvers ?? r.review.approvers,
      count: r.access.count ?? r.review.count,
      maxMs: parseDuration(r.access.max)!,
      timeoutMs: parseDuration(r.access.timeout ?? r.review.timeout)!,
      reasonRequired: r.access.reason === "required",
    },
    mask: r.mask,
    ...rowsOf(r.rows, i),
    ...(r.limits ? { limits: limitsOf(r.limits) } : {}),
  }));
  function rowsOf(rows: Record<string, string> | undefined, i: number): { rows?: CompiledRowFilter[] } {
    const { filters, problems: bad } = rowFiltersOf(rows);
    for (const p of bad) problems.push({ path: `rules.${i}.rows.${p.table}`, line: lineOf(doc, ["rules", i, "rows", p.table], lineCounter), message: p.message });
    return filters ? { rows: filters } : {};
  }
  const seen = new Set<string>();
  rules.forEach((rule, i) => {
    if (seen.has(rule.name)) problems.push({ path: `rules.${i}.name`, line: lineOf(doc, ["rules", i, "name"], lineCounter), message: `rule "${rule.name}" is defined twice` });
    seen.add(rule.name);
  });
  if (problems.length > 0) throw new PolicyError(problems, file);
  const breakGlass = breakGlassOf(parsed.data.break_glass);
  return { resources, rules, notify: { webhooks: notify.webhooks }, ...(breakGlass ? { breakGlass } : {}) };
}

/**
 * The document's value. yaml finds an alias used before its anchor, and an alias bomb, only while
 * building the value, and throws a ReferenceError: that is the author's mistake too, so it is
 * reported like any other (found by `npm run fuzz`).
 */
function toJS(doc: Document, text: string, counter: LineCounter, file?: string): unknown {
  try {
    return doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    if (!(err instanceof ReferenceError)) throw err;
    const alias = /: (\S+)$/.exec(err.message)?.[1];
    const at = alias ? text.indexOf(`*${alias}`) : -1;
    throw new PolicyError([{ path: "", line: at >= 0 ? counter.linePos(at).line : undefined, message: err.message }], file);
  }
}

/** Aliases a policy may expand (yaml's own default); a policy needs few, a bomb needs millions. */
const MAX_ALIAS_COUNT = 100;

function lineOf(doc: Document, path: ReadonlyArray<PropertyKey>, counter: LineCounter): number | undefined {
  // The deepest node that exists along the path: a missing field points at its parent.
  for (let depth = path.length; depth >= 0; depth--) {
    const node = doc.getIn(path.slice(0, depth) as Array<string | number>, true);
    const range = isScalar(node) || isMap(node) ? node.range : (node as { range?: [number, number, number] } | undefined)?.range;
    if (range) return counter.linePos(range[0]).line;
  }
  return undefined;
}
