/**
 * Before login: startup packets of every shape (versions, SSL/GSS requests, cancel requests,
 * short and oversized packets, missing user or database) and password messages (good, bad,
 * truncated, mistyped).
 */
import type { Step } from "./case";
import { GSSENC_REQUEST, PROTOCOL_3_0, SSL_REQUEST, cancelRequest, int32, password, startupBody, typed, untyped } from "./messages";
import type { Rng } from "./rng";

const VERSIONS = [PROTOCOL_3_0, PROTOCOL_3_0 + 2, PROTOCOL_3_0 + 1, 131072, 262144, 0, -1, 1234];

function startupParams(rng: Rng, agent: string, resource: string): Array<[string, string]> {
  const params: Array<[string, string]> = [];
  if (!rng.chance(0.15)) params.push(["user", rng.chance(0.9) ? agent : rng.pick(["", "ops-agent", "nobody", "x".repeat(200)])]);
  if (!rng.chance(0.15)) params.push(["database", rng.chance(0.85) ? resource : rng.pick(["", "nowhere", "postgres", "DEMO"])]);
  if (rng.chance(0.3)) params.push(["application_name", rng.pick(["fuzz", "fuzz airlock-mode=return", "", "\u00e9".repeat(40)])]);
  if (rng.chance(0.15)) params.push([rng.pick(["options", "replication", "_pq_.fuzz", "client_encoding", "DateStyle", "search_path"]), rng.pick(["-c work_mem=1MB", "database", "true", "LATIN1", "x", ""])]);
  if (rng.chance(0.1)) params.push(["user", "ops-agent"]);
  return params;
}

/** A startup phase whose packets are fuzzed; it may or may not reach a password prompt. */
export function startupSteps(rng: Rng, agent: string, resource: string): Step[] {
  const steps: Step[] = [];
  for (let i = rng.int(0, 2); i > 0; i--) {
    const code = rng.pick([SSL_REQUEST, GSSENC_REQUEST]);
    steps.push({ kind: "send", label: code === SSL_REQUEST ? "SSLRequest" : "GSSENCRequest", bytes: untyped(code, Buffer.alloc(0), rng.chance(0.1) ? rng.int(-6, 6) : 0) });
    steps.push({ kind: "await", ms: 300 });
  }
  const version = rng.chance(0.7) ? PROTOCOL_3_0 : rng.pick(VERSIONS);
  const params = startupParams(rng, agent, resource);
  const terminated = rng.chance(0.9);
  const body = startupBody(params, terminated);
  switch (rng.weighted({ plain: 60, lengthLie: 12, short: 6, oversized: 6, cancel: 10, garbage: 6 })) {
    case "plain":
      steps.push({ kind: "send", label: `StartupMessage v${version} ${JSON.stringify(params)}${terminated ? "" : " unterminated"}`, bytes: untyped(version, body) });
      break;
    case "lengthLie": {
      const delta = rng.pick([-1, -3, 1, 5, 100, -8]);
      steps.push({ kind: "send", label: `StartupMessage with length ${delta >= 0 ? "+" : ""}${delta} ${JSON.stringify(params)}`, bytes: untyped(version, body, delta) });
      break;
    }
    case "short":
      steps.push({ kind: "send", label: "short startup packet", bytes: Buffer.concat([int32(rng.int(0, 7)), rng.bytes(rng.int(0, 4))]) });
      break;
    case "oversized": {
      const size = rng.pick([10_001, 20_000, 1 << 20, 0x7fffffff]);
      steps.push({ kind: "send", label: `oversized startup packet (length ${size})`, bytes: Buffer.concat([int32(size), int32(PROTOCOL_3_0), Buffer.alloc(Math.min(size - 8, 12_000), 0x61)]) });
      break;
    }
    case "cancel":
      steps.push({ kind: "send", label: "CancelRequest with random keys", bytes: cancelRequest(rng.int(0, 0x7fffffff), rng.int(0, 0x7fffffff)) });
      break;
    case "garbage":
      steps.push({ kind: "send", label: "random bytes as the startup packet", bytes: rng.bytes(rng.int(1, 200)) });
      break;
  }
  steps.push({ kind: "await", ms: 1500 });
  if (rng.chance(0.7)) steps.push(...passwordSteps(rng));
  return steps;
}

/** Password messages, good or not; a good one logs in, if the startup did its part. */
export function passwordSteps(rng: Rng): Step[] {
  switch (rng.weighted({ good: 35, truncated: 10, otherAgent: 8, doubled: 5, bad: 15, empty: 5, lengthLie: 10, wrongType: 7, nothing: 5 })) {
    case "good":
      return [{ kind: "token", label: "PasswordMessage (good token)", variant: "good" }, { kind: "await", ms: 3000 }];
    case "truncated":
      return [{ kind: "token", label: "PasswordMessage (truncated token)", variant: "truncated" }, { kind: "await", ms: 3000 }];
    case "otherAgent":
      return [{ kind: "token", label: "PasswordMessage (the other agent's token)", variant: "other-agent" }, { kind: "await", ms: 3000 }];
    case "doubled":
      return [{ kind: "token", label: "PasswordMessage twice (good token)", variant: "doubled" }, { kind: "await", ms: 3000 }];
    case "bad": {
      const token = rng.pick(["not-a-token", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJyZXBvcnRpbmctYWdlbnQifQ.", "a.b.c", "\u00ff".repeat(300)]);
      return [{ kind: "send", label: `PasswordMessage ${JSON.stringify(token.slice(0, 40))}`, bytes: password(token) }, { kind: "await", ms: 2000 }];
    }
    case "empty":
      return [{ kind: "send", label: "PasswordMessage (empty)", bytes: password("") }, { kind: "await", ms: 1000 }];
    case "lengthLie": {
      const delta = rng.pick([-2, 3, 70_000, 1 << 30]);
      return [{ kind: "send", label: `PasswordMessage with length +${delta}`, bytes: password("x", delta) }, { kind: "await", ms: 1000 }];
    }
    case "wrongType":
      return [{ kind: "send", label: "Query instead of PasswordMessage", bytes: typed(rng.pick(["Q", "P", "X", "S", "\u0000"]), Buffer.from("select 1\0")) }, { kind: "await", ms: 1000 }];
    case "nothing":
      return [];
  }
}
