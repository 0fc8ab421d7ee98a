import assert from "node:assert/strict";
import { test } from "node:test";
import { ALL, NameTable, SessionNames, type Lookup } from "./session-names";

const known = <V>(value: V): Lookup<V> => ({ state: "known", value });
const absent = { state: "absent" } as const;
const unsettled = { state: "unsettled" } as const;

test("within one Sync group an unanswered change is believed: if it fails, the rest of the group is skipped", () => {
  const table = new NameTable<string>();
  table.set("s1", "select 1", 0);
  assert.deepEqual(table.lookup("s1", 0), known("select 1"));
  table.drop("s1", 0);
  assert.deepEqual(table.lookup("s1", 0), absent);
});

test("a change still unanswered from an earlier group leaves the name unsettled until the server answers", () => {
  const table = new NameTable<string>();
  table.set("s1", "delete from refunds", 0)(true);
  const reparse = table.set("s1", "delete from refunds where id = 1", 1);
  assert.deepEqual(table.lookup("s1", 2), unsettled, "the server may hold either text");
  assert.deepEqual(table.lookup("other", 2), absent, "other names are not held up");
  reparse(false); // 42P05: the name existed
  assert.deepEqual(table.lookup("s1", 2), known("delete from refunds"));
});

test("a named statement is believed only once the server confirms it", () => {
  const table = new NameTable<string>();
  const parse = table.set("s1", "select * from missing", 0);
  parse(false);
  assert.deepEqual(table.lookup("s1", 1), absent);
  table.set("s1", "select 1", 1)(true);
  assert.deepEqual(table.lookup("s1", 2), known("select 1"));
});

test("the unnamed statement is dropped when its replacement starts, even if that fails", () => {
  const table = new NameTable<string>();
  table.set("", "select 1", 0)(true);
  table.set("", "selec broken", 1)(false);
  assert.deepEqual(table.lookup("", 2), absent);
});

test("ALL drops every name, and is not the quoted name \"*\"", () => {
  const table = new NameTable<string>();
  table.set("a", "select 1", 0)(true);
  table.set("*", "select 2", 0)(true);
  assert.deepEqual(table.lookup("a", 1), known("select 1"), "a statement named * does not stand for every name");
  const all = table.drop(ALL, 1);
  assert.deepEqual(table.lookup("a", 2), unsettled);
  all(true);
  assert.deepEqual(table.lookup("a", 2), absent);
  assert.deepEqual(table.lookup("*", 2), absent);
});

test("a settle called twice counts once (a statement settled on its CommandComplete, then at its end)", () => {
  const table = new NameTable<string>();
  const settle = table.set("s", "select 1", 0);
  settle(true);
  settle(false);
  assert.deepEqual(table.lookup("s", 1), known("select 1"));
});

test("the end of a transaction closes portals, but not cursors WITH HOLD", () => {
  const names = new SessionNames<string>();
  names.portals.set("p", { judged: "select 1", holdable: false }, 0)(true);
  names.portals.set("c", { judged: "declare c cursor for select 1", holdable: false }, 0)(true);
  names.portals.set("h", { judged: "declare h cursor with hold for select 1", holdable: true }, 0)(true);
  names.endOfTransaction();
  assert.deepEqual(names.portals.lookup("p", 1), absent);
  assert.deepEqual(names.portals.lookup("c", 1), absent);
  assert.deepEqual(names.portals.lookup("h", 1), known({ judged: "declare h cursor with hold for select 1", holdable: true }));
});

test("lookups for SQL EXECUTE see protocol and SQL names alike, and say when one is unsettled", () => {
  const names = new SessionNames<string>();
  const info = { text: "select 1", kinds: ["select" as const], reads: [], writes: [], functions: [], reasons: [] };
  names.statements.set("x", { text: "select 1", info, described: {} }, names.group)(true);
  names.endOfGroup();
  const lookups = names.lookups();
  assert.equal(lookups.get("x"), info);
  assert.equal(lookups.found.get("x")?.text, "select 1");
  names.statements.drop("x", names.group);
  names.endOfGroup();
  const later = names.lookups();
  assert.equal(later.get("x"), undefined);
  assert.equal(later.unsettled, true);
});
