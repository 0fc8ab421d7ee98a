import type { IncomingMessage } from "node:http";
import { HTTPModuleFunctions, isRawBodyError, isValidSlackRequest, type BufferedIncomingMessage } from "@slack/bolt";
import { isEventDelivery, listenedFor, payloadProblem } from "./payload-shape";

/** Bolt accepts a signed request until its timestamp is five minutes old; a replay inside that window is refused here. */
export const REPLAY_WINDOW_MS = 5 * 60_000;
/**
 * Signed requests remembered at most. Only requests that carry a valid signature are remembered,
 * so only Slack (or whoever holds the signing secret) can fill it: people's clicks come nowhere
 * near this in five minutes. When it is full of unexpired entries new requests are refused (fail
 * closed) rather than forgetting one that could then be replayed.
 */
export const MAX_REMEMBERED = 10_000;
/** Slack's interaction payloads are a few KiB; Bolt's own limit is 4 MiB. */
export const MAX_BODY_BYTES = 256 * 1024;

export type Verdict = "new" | "replay" | "full";

/**
 * The signed requests Airlock has acted on, each until Bolt's window would refuse it anyway.
 * In memory, per process: with several instances behind one URL a replay sent to another instance
 * is not caught until this moves to the shared store (a set-if-absent with expiry, as in
 * PostgreSQL or Redis), which the decisions themselves already are: a replayed click can never
 * decide twice for one person, only be answered again.
 */
export class ReplayGuard {
  /** Key → when it may be forgotten (ms). Insertion order is nearly expiry order: Slack signs with the current time. */
  readonly #seen = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Remembers every key of one request; "replay" if any of them was seen within the window. */
  check(keys: readonly string[], timestampSec: number): Verdict {
    const now = this.now();
    if (keys.some((key) => (this.#seen.get(key) ?? 0) > now)) return "replay";
    if (this.#seen.size + keys.length > MAX_REMEMBERED) this.#forgetExpired(now);
    if (this.#seen.size + keys.length > MAX_REMEMBERED) return "full";
    // A timestamp ahead of the clock stays valid longer (Bolt refuses only old ones): remember it as long.
    const until = Math.max(timestampSec * 1000, now) + REPLAY_WINDOW_MS;
    for (const key of keys) this.#seen.set(key, until);
    return "new";
  }

  get size(): number {
    return this.#seen.size;
  }

  #forgetExpired(now: number): void {
    for (const [key, until] of this.#seen) if (until <= now) this.#seen.delete(key);
  }
}

/** What the request is known by: its signature and timestamp, and the interaction itself (a resend is signed anew). */
export function requestKeys(signature: string, timestampSec: number, body: unknown): string[] {
  const keys = [`signed:${timestampSec}:${signature}`];
  if (typeof body !== "object" || body === null) return keys;
  const { type, trigger_id: trigger, actions } = body as { type?: unknown; trigger_id?: unknown; actions?: unknown };
  if (typeof trigger !== "string" || trigger === "") return keys;
  const first = Array.isArray(actions) ? (actions[0] as { action_id?: unknown } | undefined) : undefined;
  // Only strings are written into the key: String() of an object whose toString is not a function throws.
  const action = typeof first === "object" && first !== null && typeof first.action_id === "string" ? first.action_id : "";
  keys.push(`interaction:${typeof type === "string" ? type : ""}:${trigger}:${action}`);
  return keys;
}

/** An answer given instead of handing the request to Bolt: a refusal, or an event's acknowledgement (200). */
export interface Refusal {
  status: number;
  text: string;
}

/**
 * Reads the body (Bolt reuses it: a buffered request is not read twice) and, for a validly signed
 * request, asks the guard whether it was seen. Anything not validly signed, or malformed, is left
 * to Bolt, which refuses it as it always has (401, 400).
 */
export async function screenRequest(req: IncomingMessage, guard: ReplayGuard, signingSecret: string): Promise<Refusal | undefined> {
  let buffered: BufferedIncomingMessage;
  try {
    buffered = await HTTPModuleFunctions.bufferIncomingMessage(req, MAX_BODY_BYTES);
  } catch (err) {
    return isRawBodyError(err) && (err as { statusCode: number }).statusCode === 413 ? { status: 413, text: "Slack's requests are smaller than this\n" } : { status: 400, text: "the request could not be read\n" };
  }
  const signature = req.headers["x-slack-signature"];
  const timestamp = Number(req.headers["x-slack-request-timestamp"]);
  const body = buffered.rawBody.toString();
  if (typeof signature !== "string" || !isValidSlackRequest({ signingSecret, body, headers: { "x-slack-signature": signature, "x-slack-request-timestamp": timestamp } })) return undefined;
  let parsed: unknown;
  try {
    parsed = HTTPModuleFunctions.parseHTTPRequestBody(buffered);
  } catch {
    return undefined;
  }
  const problem = payloadProblem(parsed);
  if (problem) return { status: 400, text: `${problem}: not an interaction Airlock can read; nothing was changed\n` };
  if (!isEventDelivery(parsed) && !listenedFor(parsed as Record<string, unknown>)) return { status: 404, text: "Airlock does not listen for this kind of Slack request; nothing was changed\n" };
  switch (guard.check(requestKeys(signature, timestamp, parsed), timestamp)) {
    case "new":
      return isEventDelivery(parsed) ? { status: 200, text: "" } : undefined;
    case "replay":
      return { status: 409, text: "replayed request: Airlock already received this signed request (or this interaction) and acted on it once; nothing was changed\n" };
    case "full":
      return { status: 503, text: "too many Slack requests within five minutes to tell replays apart; nothing was changed\n" };
  }
}
