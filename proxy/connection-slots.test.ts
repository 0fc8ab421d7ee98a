import { test } from "node:test";
import assert from "node:assert/strict";
import { ConnectionSlots } from "./connection-slots";
import { PgWireError } from "./wire-error";

const tooMany = (setting: string) => (err: unknown) => err instanceof PgWireError && err.code === "53300" && err.severity === "FATAL" && err.message.includes(setting);

test("the connection over the total cap is refused once admitted is asked; a release makes room", () => {
  const slots = new ConnectionSlots({ maxConnections: 2, maxConnectionsPerAgent: 5, maxBufferedBytesPerAgent: 100 });
  const [a, b, c] = [slots.open(), slots.open(), slots.open()];
  a.admit();
  b.admit();
  assert.throws(() => c.admit(), tooMany("AIRLOCK_MAX_CONNECTIONS"));
  assert.equal(slots.connections, 2, "a refused connection holds no slot");
  c.release();
  a.release();
  a.release(); // released on every path, counted once
  assert.equal(slots.connections, 1);
  slots.open().admit();
});

test("an agent's sessions are capped, and its budget is one for all of them", () => {
  const slots = new ConnectionSlots({ maxConnections: 10, maxConnectionsPerAgent: 2, maxBufferedBytesPerAgent: 100 });
  const [a, b, c, other] = [slots.open(), slots.open(), slots.open(), slots.open()];
  const budgetA = a.claimAgent("reporting-agent");
  const budgetB = b.claimAgent("reporting-agent");
  assert.throws(() => c.claimAgent("reporting-agent"), tooMany("AIRLOCK_MAX_CONNECTIONS_PER_AGENT"));
  assert.equal(budgetA, budgetB, "one budget per agent");
  budgetA.add(60);
  budgetB.add(60);
  assert.equal(budgetA.exceeded, true);
  assert.equal(other.claimAgent("ops-agent").exceeded, false, "another agent's is its own");
  a.release();
  assert.equal(slots.agentConnections("reporting-agent"), 1);
  c.claimAgent("reporting-agent");
  for (const slot of [b, c, other]) slot.release();
  assert.equal(slots.connections, 0);
  assert.equal(slots.agentConnections("reporting-agent"), 0);
});
