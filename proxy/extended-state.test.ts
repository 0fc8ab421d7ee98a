import { test } from "node:test";
import assert from "node:assert/strict";
import { ExtendedState } from "./extended-state";

test("the usual flow: parse, bind, execute in one Sync group", () => {
  const state = new ExtendedState<string>();
  const parsed = state.parse("", "select 1");
  const bound = state.bind("", state.statement(""), ["a"]);
  assert.deepEqual(state.portal(""), { candidates: ["select 1"], params: ["a"] });
  state.sync();
  parsed(true);
  bound(true);
  assert.deepEqual(state.portal("").candidates, ["select 1"]);
  state.endOfTransaction();
  assert.deepEqual(state.portal("").candidates, [], "portals end with the transaction");
});

test("a failed named Parse does not leave its SQL behind for a later Parse of the same name", () => {
  const state = new ExtendedState<string>();
  const failing = state.parse("s1", "select * from missing");
  state.sync();
  const second = state.parse("s1", "delete from t");
  state.sync();
  // Pipelined: neither answered yet. A Bind now may meet either statement: both are candidates.
  state.bind("p", state.statement("s1"), []);
  assert.deepEqual(state.portal("p").candidates.sort(), ["delete from t", "select * from missing"]);
  failing(false);
  second(true);
  state.sync();
  state.bind("q", state.statement("s1"), []);
  assert.deepEqual(state.portal("q").candidates, ["delete from t"]);
});

test("a re-Parse of a name in the same Sync group is the only candidate", () => {
  const state = new ExtendedState<string>();
  state.parse("s1", "select 1")(true);
  state.sync();
  state.parse("s1", "update t set a = 1");
  state.bind("", state.statement("s1"), []);
  assert.deepEqual(state.portal("").candidates, ["update t set a = 1"]);
});

test("a closed statement is gone once the server confirms it; a bound portal keeps its SQL", () => {
  const state = new ExtendedState<string>();
  state.parse("s1", "select 1")(true);
  state.bind("p1", state.statement("s1"), [])(true);
  state.sync();
  const closed = state.close("statement", "s1");
  closed(true);
  state.sync();
  assert.deepEqual(state.portal("p1").candidates, ["select 1"]);
  state.bind("p2", state.statement("s1"), []);
  assert.deepEqual(state.portal("p2").candidates, []);
});

test("a failed unnamed Parse leaves no unnamed statement", () => {
  const state = new ExtendedState<string>();
  state.parse("", "select 1")(true);
  state.sync();
  state.parse("", "selec broken")(false);
  state.sync();
  state.bind("", state.statement(""), []);
  assert.deepEqual(state.portal("").candidates, []);
});
