import assert from "node:assert/strict";
import { test } from "node:test";
import type { StatementInfo } from "../lib/sql/types";
import { SessionPath, startupPath } from "./session-path";
import { PgWireError } from "./wire-error";

const I = "I".charCodeAt(0);
const T = "T".charCodeAt(0);
const statement = (pathEffect?: StatementInfo["pathEffect"]): StatementInfo => ({ text: "", kinds: ["session"], reads: [], writes: [], functions: [], reasons: [], ...(pathEffect ? { pathEffect } : {}) });
const SET_EVIL = statement({ kind: "set", value: ["evil"], local: false });

test("a change sent in this group counts for what follows it in the group; a later group waits for its answer", () => {
  const path = new SessionPath(["public"], ["public"]);
  const settle = path.sent(SET_EVIL, 0);
  assert.deepEqual(path.at(0)?.current, ["evil"]); // same group: if the SET fails, the rest is skipped
  assert.equal(path.at(1), undefined); // next group: the SET may yet fail
  settle?.(true);
  assert.equal(path.at(1), undefined); // answered, but its group may still fail before ReadyForQuery
  path.ready(I);
  assert.deepEqual(path.at(1)?.current, ["evil"]);
});

test("an error in the group rolls its changes back, answered or not", () => {
  const path = new SessionPath(["public"], ["public"]);
  path.sent(SET_EVIL, 0)?.(true);
  path.sent(statement(), 0);
  path.failed();
  path.ready(I);
  assert.deepEqual(path.at(1)?.current, ["public"]);
});

test("a transaction block keeps a SET LOCAL until COMMIT", () => {
  const path = new SessionPath(["public"], ["public"]);
  path.sent(statement({ kind: "begin" }), 0)?.(true);
  path.ready(T);
  path.sent(statement({ kind: "set", value: ["evil"], local: true }), 1)?.(true);
  path.ready(T);
  assert.deepEqual(path.at(2)?.current, ["evil"]);
  path.sent(statement({ kind: "commit", chain: false }), 2)?.(true);
  path.ready(I);
  assert.deepEqual(path.at(3)?.current, ["public"]);
});

test("the startup path: parameter or options; RESET returns to it, except on the shared engine", () => {
  const startup = startupPath(new Map([["options", "-c search_path=app,public"]]), ["public"], false);
  startup.sent(statement({ kind: "set", value: "reset", local: false }), 0)?.(true);
  assert.deepEqual(startup.at(0)?.current, ["app", "public"]);
  const shared = startupPath(new Map([["search_path", "app"]]), ["public"], true);
  assert.deepEqual(shared.at(0)?.current, ["app"]);
  shared.sent(statement({ kind: "set", value: "reset", local: false }), 0)?.(true);
  assert.deepEqual(shared.at(0)?.current, ["public"]);
  assert.throws(() => startupPath(new Map([["search_path", '"open']]), ["public"], false), PgWireError);
});

test("user code that ends without a command tag or an error (a suspended Execute) counts at ReadyForQuery; one that failed does not", () => {
  const untracked = statement({ kind: "untracked" });
  const path = new SessionPath(["public"], ["public"]);
  path.sent(untracked, 0)?.(false);
  path.ready(I);
  assert.equal(typeof path.at(1)?.current, "symbol");
  const failing = new SessionPath(["public"], ["public"]);
  failing.sent(untracked, 0)?.(false);
  failing.failed();
  failing.ready(I);
  assert.deepEqual(failing.at(1)?.current, ["public"]);
});

test("a FETCH or Execute of a cursor over code Airlock does not see counts as that code", () => {
  const path = new SessionPath(["public"], ["public"]);
  path.sent({ ...statement({ kind: "untracked" }), declares: { name: "c", holdable: false } }, 0)?.(true);
  path.sent(statement({ kind: "set", value: "reset", local: false }), 0)?.(true);
  path.ready(I);
  assert.deepEqual(path.at(1)?.current, ["public"]);
  path.sent({ ...statement(), fetches: "c" }, 1)?.(true);
  path.ready(I);
  assert.equal(typeof path.at(2)?.current, "symbol");
  const other = new SessionPath(["public"], ["public"]);
  other.sent({ ...statement({ kind: "untracked" }), declares: { name: "c", holdable: false } }, 0)?.(true);
  other.sent(statement({ kind: "set", value: "reset", local: false }), 0)?.(true);
  other.ready(I);
  other.executed("c", undefined, 1)?.(true);
  other.ready(I);
  assert.equal(typeof other.at(2)?.current, "symbol");
  assert.equal(other.executed("plain", undefined, 2), undefined);
});
