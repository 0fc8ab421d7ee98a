import { test } from "node:test";
import assert from "node:assert/strict";
import { parseAsk } from "./ask";
import { approvalChoices } from "./durations";

test("a level, a duration, a reason; tables default to every table", () => {
  assert.deepEqual(parseAsk({ resource: "demo", access: "write", duration: "30m", reason: " fix orders " }), {
    ok: true,
    ask: { resource: "demo", scope: { kinds: ["select", "session", "copy_out", "insert", "update", "delete", "merge", "copy_in"], tables: ["*"] }, durationMs: 1_800_000, reason: "fix orders" },
  });
});

test("explicit kinds and tables: names are folded and qualified as PostgreSQL reads them", () => {
  const parsed = parseAsk({ resource: "demo", kinds: ["update"], tables: ["Orders", "sales.refunds", "orders"], duration: "90s" });
  assert.ok(parsed.ok);
  assert.deepEqual(parsed.ask.scope, { kinds: ["update"], tables: ["public.orders", "sales.refunds"] });
  assert.equal(parsed.ask.reason, undefined);
});

test("what cannot be read is refused, naming the field", () => {
  const message = (body: unknown) => {
    const parsed = parseAsk(body);
    return parsed.ok ? "" : parsed.message;
  };
  assert.match(message({ resource: "demo", access: "write" }), /^duration: /);
  assert.match(message({ resource: "demo", access: "write", duration: "soon" }), /^duration: a duration/);
  assert.match(message({ resource: "demo", duration: "1h" }), /either access/);
  assert.match(message({ resource: "demo", access: "write", kinds: ["update"], duration: "1h" }), /either access/);
  assert.match(message({ resource: "demo", kinds: ["unknown"], duration: "1h" }), /^kinds\.0: /);
  assert.match(message({ resource: "demo", access: "write", tables: ['x"; drop'], duration: "1h" }), /not a table name/);
  assert.match(message({ resource: "demo", access: "root", duration: "1h" }), /^access: /);
  assert.match(message({ resource: "demo", access: "write", duration: "1h", extra: 1 }), /extra/);
  assert.match(message("not an object"), /object/);
});

test("approvers are offered the length asked for and up to two shorter ones", () => {
  assert.deepEqual(approvalChoices(15 * 60_000), [15 * 60_000, 10 * 60_000, 5 * 60_000]);
  assert.deepEqual(approvalChoices(4 * 3_600_000), [4 * 3_600_000, 2 * 3_600_000, 3_600_000]);
  assert.deepEqual(approvalChoices(3000), [3000]);
});
