import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { BUILTIN_CATALOG } from "../sql/builtin-catalog";
import { UNKNOWN_PATH } from "../sql/search-path";
import type { Catalog } from "../sql/types";
import { heldPath, heldPathNote } from "./held-path";
import { canonicalHeld, heldStatements } from "./held-statements";

const CATALOG: Catalog = { ...BUILTIN_CATALOG, namespaces: { schemas: new Set(["public", "decoy"]), user: "app", searchPath: '"$user", public' } };

describe("the search_path a held statement was judged on", () => {
  test("recorded as the server resolves it: $user as the upstream role; null when the proxy could not follow it", () => {
    assert.deepEqual(heldPath(["$user", "decoy", "pg_temp"], "app"), ["app", "decoy", "pg_temp"]);
    assert.deepEqual(heldPath(["$user", "public"], undefined), ["$user", "public"], "an unknown role is left as $user");
    assert.equal(heldPath(UNKNOWN_PATH, "app"), null);
  });

  test("the same text on another path is another statement", () => {
    const decoy = heldStatements("update accounts set balance = 0", undefined, [], { path: ["decoy", "public"] });
    const other = heldStatements("update accounts set balance = 0", undefined, [], { path: ["public"] });
    assert.deepEqual(decoy[0].path, ["decoy", "public"]);
    assert.notEqual(JSON.stringify(decoy.map(canonicalHeld)), JSON.stringify(other.map(canonicalHeld)));
    assert.equal(JSON.stringify(decoy.map(canonicalHeld)), JSON.stringify(heldStatements("update accounts set balance = 0", undefined, [], { path: ["decoy", "public"] }).map(canonicalHeld)));
  });

  test("the request page names the path only when it is not the database's default", () => {
    assert.equal(heldPathNote(["app", "public"], CATALOG), undefined);
    assert.equal(heldPathNote(["decoy", "public"], CATALOG), "search_path: decoy, public");
    assert.equal(heldPathNote(["app", "public"], undefined), "search_path: app, public", "without the catalog it is always shown");
    assert.match(heldPathNote(null, CATALOG) ?? "", /not known/);
    assert.equal(heldPathNote(undefined, CATALOG), undefined, "a request from before paths were recorded");
  });
});
