import { test } from "node:test";
import assert from "node:assert/strict";
import { EventBus, type AirlockEvent, type EventTransport } from "../lib/events/bus";
import { CancelKeys, FORWARDED_CANCELS_PER_SECOND } from "./cancel-keys";

/** Two buses joined as two instances on one store are: what one sends, the other delivers. */
function joinedBuses(): { a: EventBus; b: EventBus; sent: AirlockEvent[] } {
  const deliver: Array<(event: AirlockEvent) => void> = [];
  const sent: AirlockEvent[] = [];
  const transport = (self: number): EventTransport => ({
    start: (d) => (deliver[self] = d),
    send: (event) => {
      sent.push(event);
      deliver[1 - self]?.(JSON.parse(JSON.stringify(event)) as AirlockEvent);
    },
    close: () => undefined,
  });
  return { a: new EventBus(transport(0)), b: new EventBus(transport(1)), sent };
}

test("a cancel with a key issued here cancels here, and only with the right secret", async () => {
  const keys = new CancelKeys();
  let cancelled = 0;
  const key = keys.issue(async () => void cancelled++);
  assert.equal(await keys.cancel(key.processId, key.secretKey ^ 1), false);
  assert.equal(cancelled, 0);
  assert.equal(await keys.cancel(key.processId, key.secretKey), true);
  assert.equal(cancelled, 1);
});

test("a cancel that reaches another instance is passed on as a digest and cancels the session where it lives", async () => {
  const { a, b, sent } = joinedBuses();
  const [onA, onB] = [new CancelKeys(a), new CancelKeys(b)];
  let cancelled = 0;
  const key = onA.issue(async () => void cancelled++);
  await onB.cancel(key.processId, key.secretKey);
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(cancelled, 1);
  const wire = JSON.stringify(sent);
  assert.ok(!wire.includes(String(key.secretKey)), `the secret itself crossed the bus: ${wire}`);

  // A wrong secret passed on cancels nothing.
  await onB.cancel(key.processId, key.secretKey ^ 1);
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(cancelled, 1);

  // A forged event with a digest of another pair, or none at all, cancels nothing.
  b.publish({ type: "session.cancel_requested", processId: key.processId, digest: "00".repeat(32) });
  b.publish({ type: "session.cancel_requested", processId: key.processId } as unknown as AirlockEvent);
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(cancelled, 1);
  onA.close();
  onB.close();
});

test("unknown keys flood the bus no faster than the cap per second", async () => {
  const { a, b, sent } = joinedBuses();
  const [onA, onB] = [new CancelKeys(a), new CancelKeys(b)];
  for (let i = 0; i < FORWARDED_CANCELS_PER_SECOND * 4; i++) await onB.cancel(1000 + i, i);
  // A second may turn over during the loop: at most two windows' worth.
  assert.ok(sent.length <= FORWARDED_CANCELS_PER_SECOND * 2, `${sent.length} forwarded`);
  assert.ok(sent.length >= FORWARDED_CANCELS_PER_SECOND, `${sent.length} forwarded`);
  onA.close();
  onB.close();
});
