import { test } from "node:test";
import assert from "node:assert/strict";
import { readGroupsClaim, roleForGroups } from "./roles";

const mapping = { admin: ["airlock-admins"], approver: ["db-approvers"] };

test("groups map to the strongest role", () => {
  const cases: Array<[string[], string]> = [
    [["db-approvers", "engineering"], "approver"],
    [["db-approvers"], "approver"],
    [["engineering"], "viewer"],
    [["airlock-admins"], "admin"],
    [["db-approvers", "airlock-admins"], "admin"],
    [[], "viewer"],
  ];
  for (const [groups, role] of cases) assert.equal(roleForGroups(groups, mapping), role, groups.join(","));
});

test("the mapping is configuration", () => {
  assert.equal(roleForGroups(["sec-team"], { admin: [], approver: ["sec-team"] }), "approver");
  assert.equal(roleForGroups(["db-approvers"], { admin: [], approver: ["sec-team"] }), "viewer");
});

test("groups claims in the shapes IdPs send them", () => {
  assert.deepEqual(readGroupsClaim(["a", "b", 3]), ["a", "b"]);
  assert.deepEqual(readGroupsClaim("a, b"), ["a", "b"]);
  assert.deepEqual(readGroupsClaim(undefined), []);
  assert.deepEqual(readGroupsClaim({ a: 1 }), []);
});
