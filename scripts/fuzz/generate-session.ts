/**
 * After login: simple and extended protocol, SQL-level names, COPY at right and wrong times,
 * sync storms and cancels, with lengths, counts, format codes and names mutated now and then.
 */
import type { Step } from "./case";
import { bindBody, close, copyData, copyDone, copyFail, describe, execute, flush, parseBody, query, sync, typed } from "./messages";
import type { Rng } from "./rng";
import { NAMES, anySql, copySql, namesSql, paramValue } from "./sql-pool";

const send = (label: string, bytes: Buffer): Step => ({ kind: "send", label, bytes });

/** Usually 0; now and then a length word that lies, which breaks the framing from there on. */
function lie(rng: Rng): number {
  return rng.chance(0.03) ? rng.pick([-4, -1, 1, 2, 7, 4096, -100]) : 0;
}

const lieLabel = (delta: number): string => (delta === 0 ? "" : ` [length ${delta > 0 ? "+" : ""}${delta}]`);
const name = (rng: Rng): string => rng.pick(NAMES);

function simpleQuery(rng: Rng, sql = anySql(rng)): Step {
  const delta = lie(rng);
  return send(`Query ${JSON.stringify(sql)}${lieLabel(delta)}`, query(sql, delta));
}

function parse(rng: Rng, statement = name(rng), sql = rng.chance(0.3) ? namesSql(rng) : anySql(rng)): Step {
  const types = rng.chance(0.7) ? [] : Array.from({ length: rng.int(1, 3) }, () => rng.pick([23, 25, 0, 20, 17, 99999, -1]));
  const typeCount = rng.chance(0.05) ? rng.int(-1, 5) : types.length;
  const delta = lie(rng);
  return send(`Parse ${JSON.stringify(statement)} ${JSON.stringify(sql)} types=${JSON.stringify(types)}${typeCount !== types.length ? ` count=${typeCount}` : ""}${lieLabel(delta)}`, typed("P", parseBody(statement, sql, types, typeCount), delta));
}

function bind(rng: Rng, portal = rng.chance(0.7) ? "" : name(rng), statement = name(rng)): Step {
  const params = Array.from({ length: rng.pick([0, 0, 1, 1, 2, 3]) }, () => paramValue(rng));
  const formats = rng.weighted({ none: 6, one: 2, each: 2, odd: 1 }) === "none" ? [] : Array.from({ length: rng.int(1, 3) }, () => rng.pick([0, 0, 1, 2, -1]));
  const resultFormats = rng.chance(0.7) ? [] : Array.from({ length: rng.int(1, 4) }, () => rng.pick([0, 1, 1, 7]));
  const paramCount = rng.chance(0.06) ? rng.int(-1, 6) : undefined;
  const lengthLie = rng.chance(0.05) ? rng.pick([-2, 1, 1000, 0x7fffffff]) : undefined;
  const delta = lie(rng);
  const body = bindBody({ portal, statement, formats, params, paramCount, resultFormats, lengthOf: lengthLie === undefined ? undefined : (v) => (v === null ? lengthLie : v.length + lengthLie) });
  const shown = params.map((p) => (p === null ? null : p.toString("latin1").slice(0, 20)));
  return send(
    `Bind portal=${JSON.stringify(portal)} statement=${JSON.stringify(statement)} formats=${JSON.stringify(formats)} params=${JSON.stringify(shown)}${paramCount !== undefined ? ` count=${paramCount}` : ""}${lengthLie !== undefined ? ` valueLength${lengthLie}` : ""} results=${JSON.stringify(resultFormats)}${lieLabel(delta)}`,
    typed("B", body, delta),
  );
}

function extendedMessage(rng: Rng): Step {
  switch (rng.weighted({ parse: 5, bind: 5, describe: 3, execute: 5, close: 2, flush: 1, sync: 2, query: 1 })) {
    case "parse":
      return parse(rng);
    case "bind":
      return bind(rng);
    case "describe": {
      const kind = rng.pick(["S", "P", "P", "X"]);
      const target = name(rng);
      const delta = lie(rng);
      return send(`Describe ${kind} ${JSON.stringify(target)}${lieLabel(delta)}`, describe(kind, target, delta));
    }
    case "execute": {
      const portal = rng.chance(0.75) ? "" : name(rng);
      const maxRows = rng.pick([0, 0, 0, 1, 2, -1]);
      const delta = lie(rng);
      return send(`Execute ${JSON.stringify(portal)} max=${maxRows}${lieLabel(delta)}`, execute(portal, maxRows, delta));
    }
    case "close": {
      const kind = rng.pick(["S", "P", "Z"]);
      const target = name(rng);
      const delta = lie(rng);
      return send(`Close ${kind} ${JSON.stringify(target)}${lieLabel(delta)}`, close(kind, target, delta));
    }
    case "flush":
      return send("Flush", flush());
    case "sync":
      return send("Sync", sync());
    case "query":
      return simpleQuery(rng);
  }
}

/** A well-formed Parse/Bind/Execute group, so the fuzz reaches the decision point often. */
function wellFormedGroup(rng: Rng): Step[] {
  const statement = name(rng);
  return [parse(rng, statement), bind(rng, "", statement), ...(rng.chance(0.4) ? [send("Describe P \"\"", describe("P", ""))] : []), send("Execute \"\" max=0", execute("", 0)), send("Sync", sync())];
}

function extended(rng: Rng): Step[] {
  const steps: Step[] = [];
  for (let g = rng.int(1, 5); g > 0; g--) {
    if (rng.chance(0.4)) steps.push(...wellFormedGroup(rng));
    else {
      for (let m = rng.int(1, 8); m > 0; m--) steps.push(extendedMessage(rng));
      if (rng.chance(0.85)) steps.push(send("Sync", sync()));
    }
    if (rng.chance(0.4)) steps.push({ kind: "await", ms: rng.int(50, 800) });
  }
  return steps;
}

function names(rng: Rng): Step[] {
  const steps: Step[] = [];
  for (let i = rng.int(2, 10); i > 0; i--) {
    if (rng.chance(0.5)) steps.push(simpleQuery(rng, namesSql(rng)));
    else steps.push(...(rng.chance(0.5) ? wellFormedGroup(rng) : [extendedMessage(rng), send("Sync", sync())]));
    if (rng.chance(0.3)) steps.push({ kind: "await", ms: rng.int(20, 400) });
  }
  return steps;
}

function simple(rng: Rng): Step[] {
  const steps: Step[] = [];
  for (let i = rng.int(1, 10); i > 0; i--) {
    steps.push(simpleQuery(rng));
    if (rng.chance(0.4)) steps.push({ kind: "await", ms: rng.int(20, 500) });
  }
  return steps;
}

function copyMessage(rng: Rng): Step {
  switch (rng.weighted({ data: 6, done: 2, fail: 2, sync: 1, query: 1, flush: 1 })) {
    case "data": {
      const data = rng.pick([Buffer.from("1\t1\tfuzz\n"), Buffer.from("1,2,fuzz\n"), Buffer.from("\\.\n"), rng.bytes(rng.int(0, 64)), Buffer.from("PGCOPY\n\xff\r\n\0", "latin1")]);
      const delta = lie(rng);
      return send(`CopyData ${JSON.stringify(data.toString("latin1").slice(0, 24))}${lieLabel(delta)}`, copyData(data, delta));
    }
    case "done":
      return send("CopyDone", copyDone());
    case "fail":
      return send("CopyFail", copyFail("fuzz says no"));
    case "sync":
      return send("Sync", sync());
    case "query":
      return simpleQuery(rng, "select 1");
    case "flush":
      return send("Flush", flush());
  }
}

function copy(rng: Rng): Step[] {
  const steps: Step[] = [];
  if (rng.chance(0.2)) steps.push(copyMessage(rng)); // before any COPY: out of place
  const sql = copySql(rng);
  if (rng.chance(0.7)) steps.push(simpleQuery(rng, sql));
  else steps.push(parse(rng, "", sql), bind(rng, "", ""), send("Execute \"\" max=0", execute("", 0)), ...(rng.chance(0.5) ? [send("Sync", sync())] : []));
  if (rng.chance(0.5)) steps.push({ kind: "await", ms: rng.int(50, 600) });
  for (let i = rng.int(0, 6); i > 0; i--) steps.push(copyMessage(rng));
  return steps;
}

function storm(rng: Rng): Step[] {
  const count = rng.pick([100, 1000, 5000]);
  switch (rng.weighted({ syncs: 3, flushes: 1, queries: 2, groups: 2 })) {
    case "syncs":
      return [send(`${count} × Sync in one write`, Buffer.concat(Array.from({ length: count }, sync)))];
    case "flushes":
      return [send(`${count} × Flush in one write`, Buffer.concat(Array.from({ length: count }, flush))), send("Sync", sync())];
    case "queries": {
      const sql = rng.pick(["select 1", "", "begin", "rollback", "delete from refunds where id = -1"]);
      return [send(`${count / 10} × Query ${JSON.stringify(sql)} in one write`, Buffer.concat(Array.from({ length: count / 10 }, () => query(sql))))];
    }
    case "groups": {
      const statement = rng.pick(["", "s1"]);
      const group = Buffer.concat([typed("P", parseBody(statement, "select 1", [])), typed("B", bindBody({ portal: "", statement, formats: [], params: [], resultFormats: [] })), execute("", 0), sync()]);
      return [send(`${count / 10} × Parse ${JSON.stringify(statement)}/Bind/Execute/Sync in one write`, Buffer.concat(Array.from({ length: count / 10 }, () => group)))];
    }
  }
}

function cancel(rng: Rng): Step[] {
  const which = rng.chance(0.6) ? "own" : "random";
  const sql = rng.pick(["select pg_sleep(2)", "delete from refunds where id = -4", "select 1"]);
  return [simpleQuery(rng, sql), { kind: "await", ms: rng.int(0, 300) }, { kind: "cancel", label: `CancelRequest (${which} key)`, which }, { kind: "await", ms: 500 }];
}

export const SESSION_SCENARIOS = { simple: 14, extended: 24, names: 16, copy: 10, storm: 5, cancel: 6 } as const;
export type SessionScenario = keyof typeof SESSION_SCENARIOS;

/** The steps of a logged-in session of the given scenario, sometimes mixed with another's. */
export function sessionSteps(rng: Rng, scenario: SessionScenario): Step[] {
  const make = { simple, extended, names, copy, storm, cancel }[scenario];
  const steps = make(rng);
  if (rng.chance(0.3)) steps.push(...[simple, extended, names, copy][rng.int(0, 3)](rng));
  return steps;
}

/** Ends a session in the middle of a message: a prefix of one, then the socket is gone. */
export function cutStep(rng: Rng): Step {
  const whole = rng.chance(0.5) ? query(anySql(rng)) : typed("B", bindBody({ portal: "", statement: "", formats: [], params: [paramValue(rng)], resultFormats: [] }));
  return { kind: "cut", label: `${String.fromCharCode(whole[0])} message`, bytes: whole, at: rng.int(1, whole.length - 1) };
}
