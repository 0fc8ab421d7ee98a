import fs from "node:fs";
import path from "node:path";
import { z } from "zod";
import { WEBHOOK_EVENTS, type WebhookEventType } from "../webhooks/event-types";
import { expandEnv, type Env } from "./env";

/** A receiver of Airlock's events, as the policy's `notify.webhooks` names it. */
export interface Webhook {
  /** In metrics and logs (never the URL, which may carry a token); defaults to the URL's host. */
  name: string;
  url: string;
  /** The HMAC-SHA256 key: the secret's base64, decoded (after its `whsec_` prefix), as Standard Webhooks libraries read it. */
  key: Buffer;
  events: readonly WebhookEventType[];
  /** Whether a request's statements are sent as text (off: only their count). */
  includeSql: boolean;
}

/** Standard Webhooks asks for 24 to 64 bytes; fewer is guessable offline from one signed body. */
export const MIN_KEY_BYTES = 24;

const SECRET_PREFIX = "whsec_";
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

// The policy file is shown in the dashboard to everyone signed in: a secret written in it would be no secret.
const SecretSchema = z
  .strictObject(
    { env: z.string().regex(ENV_NAME, "an environment variable's name").optional(), file: z.string().min(1).optional() },
    { error: (issue) => (issue.code === "invalid_type" ? "give the secret as { env: NAME } or { file: PATH }, never in the file: the policy is shown in the dashboard" : undefined) },
  )
  .refine((s) => (s.env === undefined) !== (s.file === undefined), "give one of env or file");

export const NotifySchema = z.strictObject({
  webhooks: z
    .array(
      z.strictObject({
        name: z.string().regex(/^[A-Za-z0-9_.:-]+$/, "webhook names are letters, digits, ., :, - and _").optional(),
        url: z.string().min(1),
        secret: SecretSchema,
        events: z.array(z.enum(WEBHOOK_EVENTS)).min(1),
        include_sql: z.boolean().default(true),
      }),
    )
    .default([]),
});

type Problem = { path: Array<string | number>; message: string };

/**
 * The webhooks of a validated `notify`, with their URLs' `${ENV}` expanded and their secrets read;
 * every problem is reported against its field (the caller adds lines), and none is half-applied.
 */
export function resolveWebhooks(notify: z.infer<typeof NotifySchema> | undefined, env: Env, policyFile?: string): { webhooks: Webhook[]; problems: Problem[] } {
  const webhooks: Webhook[] = [];
  const problems: Problem[] = [];
  const names = new Map<string, number>();
  (notify?.webhooks ?? []).forEach((w, i) => {
    const at = (field: string): Array<string | number> => ["notify", "webhooks", i, field];
    let url: URL | undefined;
    try {
      url = checkedUrl(expandEnv(w.url, env));
    } catch (err) {
      problems.push({ path: at("url"), message: (err as Error).message });
    }
    let key: Buffer | undefined;
    try {
      key = secretKey(w.secret, env, policyFile);
    } catch (err) {
      problems.push({ path: at("secret"), message: (err as Error).message });
    }
    if (!url || !key) return;
    const name = w.name ?? url.host;
    if (names.has(name)) {
      problems.push({ path: at(w.name ? "name" : "url"), message: `webhook ${names.get(name)} is named "${name}" too (a name defaults to the URL's host): give each its own name` });
      return;
    }
    names.set(name, i);
    webhooks.push({ name, url: url.toString(), key, events: [...new Set(w.events)], includeSql: w.include_sql });
  });
  return { webhooks, problems };
}

/** HTTPS, so the events and their signatures cannot be read on the way; plain HTTP only to this machine. */
function checkedUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error("not a URL");
  }
  // fetch refuses such a URL on every try, with an error quoting it whole: the password would end
  // up in the log and on the status page. A receiver's token goes in the path or query instead.
  if (url.username || url.password) throw new Error("must not carry a user name or password (put a receiver's token in the path or query)");
  if (url.protocol === "https:") return url;
  if (url.protocol === "http:" && isLoopback(url.hostname)) return url;
  throw new Error("must start with https:// (http:// only to localhost, 127.0.0.1 or [::1])");
}

function isLoopback(host: string): boolean {
  return host === "localhost" || host === "[::1]" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** The key bytes of `{ env }` or `{ file }` (a relative file is read from the policy file's folder). */
function secretKey(secret: { env?: string; file?: string }, env: Env, policyFile?: string): Buffer {
  let text: string;
  if (secret.env !== undefined) {
    text = env[secret.env] ?? "";
    if (!text) throw new Error(`environment variable ${secret.env} is not set`);
  } else {
    const file = path.resolve(policyFile ? path.dirname(policyFile) : ".", secret.file!);
    try {
      // A trailing newline is the editor's, not the secret's.
      text = fs.readFileSync(file, "utf8").trim();
    } catch (err) {
      throw new Error(`cannot read the secret file ${file}: ${(err as NodeJS.ErrnoException).code ?? err}`);
    }
  }
  // Base64 whether or not it says whsec_: a receiver's library decodes it so, and a key read otherwise here would never match.
  const base64 = text.startsWith(SECRET_PREFIX) ? text.slice(SECRET_PREFIX.length) : text;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) throw new Error(`the secret must be base64, after an optional whsec_ (as Standard Webhooks libraries read it), e.g. ${EXAMPLE}`);
  const key = Buffer.from(base64, "base64");
  if (key.length < MIN_KEY_BYTES) throw new Error(`the secret is ${key.length} bytes; use at least ${MIN_KEY_BYTES}, e.g. ${EXAMPLE}`);
  return key;
}

const EXAMPLE = "whsec_$(openssl rand -base64 32)";
