import { test } from "node:test";
import assert from "node:assert/strict";
import { ConfigError } from "../config";
import { agentClientIds } from "./agent-clients";

const PEOPLE = "https://login.example.com";

test("agents and people from one issuer: AGENT_CLIENT_IDS is required, or the development IdP's seeded agents", () => {
  assert.throws(() => agentClientIds({ agentIssuer: PEOPLE, peopleIssuer: PEOPLE, configured: undefined, fallback: undefined }), (err: unknown) => err instanceof ConfigError && /AGENT_CLIENT_IDS/.test(err.message));
  assert.deepEqual(agentClientIds({ agentIssuer: PEOPLE, peopleIssuer: PEOPLE, configured: undefined, fallback: ["reporting-agent"] }), ["reporting-agent"]);
  assert.deepEqual(agentClientIds({ agentIssuer: PEOPLE, peopleIssuer: PEOPLE, configured: ["etl"], fallback: ["reporting-agent"] }), ["etl"]);
});

test("a separate agent issuer accepts any of its clients unless a list is given", () => {
  assert.equal(agentClientIds({ agentIssuer: "https://agents.example.com", peopleIssuer: PEOPLE, configured: undefined, fallback: undefined }), undefined);
  assert.deepEqual(agentClientIds({ agentIssuer: "https://agents.example.com", peopleIssuer: PEOPLE, configured: ["etl"], fallback: undefined }), ["etl"]);
});
