import type { Resource } from "../policy/policy-file";

/** A part that could not be read says why instead of failing the page. */
export type Part<T> = { ok: true; value: T } | { ok: false; error: string };

/** `check`'s answer, or why there is none: its error, or that it took longer than `ms` (it is not waited for). */
export async function boundedCheck<T>(check: () => Promise<T>, ms: number): Promise<Part<T>> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${ms / 1000} s`)), ms)));
  try {
    return { ok: true, value: await Promise.race([check(), late]) };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  } finally {
    clearTimeout(timer);
  }
}

export type Reachability =
  /** PGlite inside Airlock: started by its first session, never by a check. */
  | { state: "embedded" }
  | { state: "reachable"; checkedAt: Date; tookMs: number }
  | { state: "unreachable"; checkedAt: Date; error: string };

/** A resource's answer is kept this long: page views (and their reloads on live events) do not each log in. */
export const REACH_CACHE_MS = 30_000;
/** A login that takes longer counts as unreachable (the target's own connect timeout may be longer). */
export const REACH_TIMEOUT_MS = 3000;

type Reach = (resource: Resource) => Promise<void>;
// Per reach function (one per process; tests make their own), per URL: the answer, or the check under way, shared.
const kept = new WeakMap<Reach, Map<string, { at: number; answer: Promise<Reachability> }>>();

/** Whether Airlock can log in to the resource, as checked within the last REACH_CACHE_MS. */
export function reachability(resource: Resource, reach: Reach, now = Date.now()): Promise<Reachability> {
  if (resource.url.startsWith("pglite://")) return Promise.resolve({ state: "embedded" });
  let answers = kept.get(reach);
  if (!answers) kept.set(reach, (answers = new Map()));
  const last = answers.get(resource.url);
  if (last && now - last.at < REACH_CACHE_MS) return last.answer;
  const answer = check(resource, reach);
  answers.set(resource.url, { at: now, answer });
  return answer;
}

async function check(resource: Resource, reach: Reach): Promise<Reachability> {
  const checkedAt = new Date();
  const started = performance.now();
  const part = await boundedCheck(() => reach(resource), REACH_TIMEOUT_MS);
  return part.ok ? { state: "reachable", checkedAt, tookMs: performance.now() - started } : { state: "unreachable", checkedAt, error: part.error };
}
