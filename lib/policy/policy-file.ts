import { isMap, isScalar, LineCounter, parseDocument, type Document } from "yaml";
import { z } from "zod";

/** A database agents may reach, as the policy file names it. */
export interface Resource {
  name: string;
  type: "postgres";
  /** `pglite://NAME` for the embedded demo database, `postgres://…` for PostgreSQL; ${ENV} expanded. */
  url: string;
}

export interface Policy {
  resources: ReadonlyMap<string, Resource>;
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

const PolicySchema = z.object({
  resources: z.record(z.string().regex(/^[A-Za-z0-9_-]+$/, "resource names are letters, digits, - and _"), ResourceSchema),
  // Rules are read by the policy engine; until then the document may carry them.
  rules: z.array(z.unknown()).optional(),
});

type Env = Record<string, string | undefined>;

/** Parses and validates a policy document; throws PolicyError naming line and field. */
export function parsePolicy(text: string, env: Env = process.env, file?: string): Policy {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new PolicyError(doc.errors.map((e) => ({ path: "", line: lineCounter.linePos(e.pos[0]).line, message: e.message.split("\n")[0] })), file);
  }
  const parsed = PolicySchema.safeParse(doc.toJS());
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
  if (problems.length > 0) throw new PolicyError(problems, file);
  return { resources };
}

/** `${NAME}` references, so secrets stay in the environment and out of the file. */
export function expandEnv(value: string, env: Env): string {
  return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => {
    const v = env[name];
    if (v === undefined || v === "") throw new Error(`environment variable ${name} is not set`);
    return v;
  });
}

function lineOf(doc: Document, path: ReadonlyArray<PropertyKey>, counter: LineCounter): number | undefined {
  // The deepest node that exists along the path: a missing field points at its parent.
  for (let depth = path.length; depth >= 0; depth--) {
    const node = doc.getIn(path.slice(0, depth) as Array<string | number>, true);
    const range = isScalar(node) || isMap(node) ? node.range : (node as { range?: [number, number, number] } | undefined)?.range;
    if (range) return counter.linePos(range[0]).line;
  }
  return undefined;
}
