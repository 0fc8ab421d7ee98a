import { test } from "node:test";
import assert from "node:assert/strict";
import { hasDecided, whyNotDecider, type Decider } from "../approvals/people";
import { identityFromProfile, identityFromToken } from "./person-identity";

const ISSUER = "https://login.example.com";

test("sign-in keeps the ID token's issuer and subject; the provider's issuer when the profile has none", () => {
  assert.deepEqual(identityFromProfile({ iss: "https://idp.example.com/t1", sub: "00u1" }, ISSUER), { issuer: "https://idp.example.com/t1", subject: "00u1" });
  assert.deepEqual(identityFromProfile({ sub: "00u1" }, ISSUER), { issuer: ISSUER, subject: "00u1" });
  assert.equal(identityFromProfile({ iss: ISSUER }, ISSUER), undefined, "no subject, no identity");
  assert.equal(identityFromProfile({ iss: ISSUER, sub: "" }, ISSUER), undefined);
  assert.equal(identityFromProfile({ iss: ISSUER, sub: 42 }, ISSUER), undefined);
});

test("a session token gives its identity only when it has both parts (older tokens: email alone)", () => {
  assert.deepEqual(identityFromToken({ sub: "00u1", issuer: ISSUER }), { issuer: ISSUER, subject: "00u1" });
  assert.equal(identityFromToken({ sub: "00u1" }), undefined);
  assert.equal(identityFromToken({ issuer: ISSUER }), undefined);
  assert.equal(identityFromToken({ sub: "00u1", issuer: 7 }), undefined);
});

test("a session's identity reaches the decider checks: the agent's own identity is its requester, whatever the email", () => {
  const request = { approverGroups: ["db-approvers"], agentId: "00u1", createdAt: new Date(), expiresAt: new Date(Date.now() + 60_000), followUp: null };
  const person = (identity: Decider["identity"]): Decider => ({ email: "alice@example.com", groups: ["db-approvers"], role: "approver", identity });
  const fromSession = identityFromToken({ sub: "00u1", issuer: ISSUER });
  assert.equal(whyNotDecider(person(fromSession), request, ISSUER), "the requester cannot decide its own request");
  assert.equal(whyNotDecider(person(identityFromToken({ sub: "00u1", issuer: "https://other.example.com" })), request, ISSUER), undefined, "the same subject at another issuer is someone else");
  assert.equal(whyNotDecider(person(undefined), request, ISSUER), undefined);
  assert.ok(hasDecided([{ personEmail: "Alice@Example.com" }], person(fromSession)), "one decision per person, compared case-insensitively");
});
