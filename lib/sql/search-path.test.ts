import assert from "node:assert/strict";
import { test } from "node:test";
import { resolveRelation, SearchPath, splitPath, UNKNOWN_PATH, type SchemaNames } from "./search-path";

test("splitPath reads a value as PostgreSQL's SplitIdentifierString does", () => {
  assert.deepEqual(splitPath('"$user", public'), ["$user", "public"]);
  assert.deepEqual(splitPath("  App ,PUBLIC  "), ["app", "public"]);
  assert.deepEqual(splitPath('"Evil.x", "a""b"'), ["Evil.x", 'a"b']);
  assert.deepEqual(splitPath(""), []);
  assert.equal(splitPath('"unclosed'), undefined);
  assert.equal(splitPath("a,,b"), undefined);
  assert.equal(splitPath('""'), undefined);
  assert.equal(splitPath("a b"), undefined);
  assert.equal(splitPath("x".repeat(70))?.[0].length, 63);
});

const names: SchemaNames = {
  schemas: new Set(["public", "evil", "app", "alice"]),
  user: "alice",
  hasRelation: (schema, name) => ["public.customers", "evil.customers", "pg_catalog.pg_class", "evil.pg_class"].includes(`${schema}.${name}`),
};

test("resolveRelation: pg_catalog first unless placed, $user, missing schemas skipped, pg_temp left out", () => {
  assert.equal(resolveRelation(["$user", "public"], names, "customers"), "public.customers");
  assert.equal(resolveRelation(["evil", "public"], names, "customers"), "evil.customers");
  assert.equal(resolveRelation(["nosuch", "public"], names, "customers"), "public.customers");
  assert.equal(resolveRelation(["evil"], names, "pg_class"), "pg_catalog.pg_class");
  assert.equal(resolveRelation(["evil", "pg_catalog"], names, "pg_class"), "evil.pg_class");
  assert.equal(resolveRelation(["pg_temp", "public"], names, "customers"), "public.customers");
  assert.equal(resolveRelation(["$user", "public"], names, "fresh"), "alice.fresh"); // what CREATE would make
  assert.equal(resolveRelation(["EVIL", "public"], names, "customers"), "public.customers");
});

const evil = ["evil"];

test("SET in a transaction: kept by COMMIT, undone by ROLLBACK and by an error in an implicit transaction", () => {
  const p = new SearchPath(["public"]);
  p.completed({ kind: "begin" });
  p.completed({ kind: "set", value: evil, local: false });
  p.completed({ kind: "rollback", chain: false });
  assert.deepEqual(p.current, ["public"]);
  p.completed({ kind: "set", value: evil, local: false });
  p.failed(); // the implicit transaction (one Query) rolled back
  p.ready("I");
  assert.deepEqual(p.current, ["public"]);
  p.completed({ kind: "set", value: evil, local: false });
  p.ready("I");
  assert.deepEqual(p.current, evil);
});

test("SET LOCAL lasts until the transaction ends; savepoints", () => {
  const p = new SearchPath(["public"]);
  p.completed({ kind: "begin" });
  p.ready("T");
  p.completed({ kind: "set", value: evil, local: true });
  assert.deepEqual(p.current, evil);
  p.completed({ kind: "commit", chain: false });
  assert.deepEqual(p.current, ["public"]);
  p.completed({ kind: "begin" });
  p.completed({ kind: "savepoint", name: "a" });
  p.completed({ kind: "set", value: evil, local: false });
  p.completed({ kind: "rollback-to", name: "a" });
  assert.deepEqual(p.current, ["public"]);
  p.completed({ kind: "set", value: evil, local: false });
  p.completed({ kind: "release", name: "a" });
  p.failed();
  p.completed({ kind: "commit", chain: false }); // COMMIT of a failed transaction rolls back
  assert.deepEqual(p.current, ["public"]);
  p.completed({ kind: "set", value: "reset", local: false });
  assert.deepEqual(p.current, ["public"]);
});

test("code Airlock does not see leaves the path unknown until a SET", () => {
  const p = new SearchPath(["public"]);
  p.completed({ kind: "untracked" });
  p.ready("I");
  assert.equal(p.current, UNKNOWN_PATH);
  p.completed({ kind: "set", value: evil, local: false });
  p.ready("I");
  assert.deepEqual(p.current, evil);
});
