import { test } from "node:test";
import assert from "node:assert/strict";
import { ACCESS_LEVELS } from "../access/scope";
import { accessScope, ALL_TABLES } from "../approvals/grant-scope";
import { storedRequest } from "../approvals/testing";
import type { AccessRequest, RequestDecision } from "../db/schema";
import { FIELD_CHARS, readButton, requestMessage, SQL_PREVIEW_CHARS } from "./blocks";
import { denyModal, readDenial, REASON_MAX_CHARS } from "./deny-modal";
import { clipEscaped, codeBlock, escapeMrkdwn } from "./mrkdwn";

const URL = "http://airlock.test/requests/r_0a1b";
const now = new Date("2025-03-01T10:00:00Z");

function request(overrides: Partial<AccessRequest> = {}): AccessRequest {
  return storedRequest(now, { groups: ["agents", "analytics"], statements: [{ text: "update orders set status = 'paid' where id = 5", params: null }], expiresAt: new Date(now.getTime() + 600_000), ...overrides });
}

function decision(personEmail: string, fields: Partial<RequestDecision> = {}): RequestDecision {
  return { id: 1, requestId: "r_0a1b", personEmail, decision: "approve", grantMs: null, reason: null, via: "slack", at: now, authAt: null, maxRows: null, ...fields };
}

/** Every text a message shows, joined, for assertions about what people read. */
function shown(message: ReturnType<typeof requestMessage>): string {
  return JSON.stringify(message.blocks);
}

test("a pending request: who, where, what, rule, since when, how far, the SQL and the buttons", () => {
  const message = requestMessage(request(), [], URL);
  const text = shown(message);
  for (const expected of ["reporting-agent (agents, analytics)", "*Resource*\\ndemo", "*Rule*\\nagents-write", "*Scope*\\nupdate orders", "*Approvals*\\n0 of 1", "<!date^1740823200^", `<${URL}|request r_0a1b>`]) {
    assert.ok(text.includes(expected), `${expected} in ${text}`);
  }
  assert.ok(text.includes("```\\nupdate orders set status = 'paid' where id = 5\\n```"));
  const actions = message.blocks.find((b) => b.type === "actions");
  assert.ok(actions && actions.type === "actions");
  assert.deepEqual(
    actions.elements.map((e) => (e.type === "button" ? [e.text.text, e.action_id, e.value] : [])),
    [
      ["Approve once", "airlock.approve.once", "r_0a1b"],
      ["Approve for 15 min", "airlock.approve.900000", "r_0a1b"],
      ["Approve for 1 h", "airlock.approve.3600000", "r_0a1b"],
      ["Deny", "airlock.deny", "r_0a1b"],
    ],
  );
  assert.equal(message.text, "Airlock r_0a1b: reporting-agent asks to run update orders on demo");
});

test("decided: the outcome and who, no buttons", () => {
  const approved = requestMessage(request({ status: "approved", decidedAt: now }), [decision("bob@example.com")], URL);
  assert.equal(approved.blocks.find((b) => b.type === "actions"), undefined);
  assert.match(shown(approved), /Approved\* by bob@example.com \(Slack, once\) at <!date/);
  assert.match(approved.text, /approved by bob@example.com/);

  const denied = requestMessage(request({ status: "denied", decidedAt: now, outcomeReason: "not today <!channel>" }), [decision("alice@example.com", { decision: "deny", via: "web" })], URL);
  assert.match(shown(denied), /Denied\* by alice@example.com \(web\) at .*: not today &lt;!channel&gt;/);
  assert.match(shown(requestMessage(request({ status: "expired", decidedAt: now }), [], URL)), /Expired/);
  assert.match(shown(requestMessage(request({ status: "cancelled", decidedAt: now, outcomeReason: "the agent disconnected" }), [], URL)), /Cancelled\* at .*: the agent disconnected/);
});

test("count 2: one approval shows 1 of 2 and who, the buttons stay", () => {
  const message = requestMessage(request({ requiredApprovals: 2 }), [decision("bob@example.com", { grantMs: 900_000 })], URL);
  assert.match(shown(message), /\*Approvals\*\\n1 of 2/);
  assert.match(shown(message), /Approved so far by bob@example.com \(Slack, for 15 min\); waiting for 1 more approval\(s\) from db-approvers/);
  assert.ok(message.blocks.some((b) => b.type === "actions"));
});

test("agent text cannot mention, link or close the code block", () => {
  const sql = "update t set note = '<!channel> <@U0BOB> <https://evil.example|click> ``` *bold* & more' where id = 1";
  const message = requestMessage(request({ statements: [{ text: sql, params: null }], scope: [{ kind: "update", table: 'public."<!here>"' }], agentId: "<!everyone>" }), [], URL);
  const text = shown(message);
  assert.ok(!/<!(channel|here|everyone)>|<@U|<https:\/\/evil/.test(text), text);
  assert.ok(text.includes("&lt;!channel&gt; &lt;@U0BOB&gt; &lt;https://evil.example|click&gt;"));
  assert.equal(text.match(/```/g)?.length, 2, "only the block's own fences");
  assert.ok(!message.text.includes("<!everyone>"));
  for (const block of message.blocks) {
    const texts = block.type === "section" ? [block.text, ...(block.fields ?? [])] : block.type === "context" ? block.elements : [];
    for (const t of texts) if (t && t.type === "mrkdwn") assert.equal(t.verbatim, true, "no auto-linking of names or URLs");
  }
});

test("long SQL is shortened within Slack's limit, with a link to the full request", () => {
  const sql = `update orders set note = '${"<".repeat(5_000)}' where id = 1`;
  const message = requestMessage(request({ statements: [{ text: sql, params: null }], scope: Array.from({ length: 200 }, (_, i) => ({ kind: "update" as const, table: `public.table_${i}` })) }), [], URL);
  const section = message.blocks[2];
  assert.ok(section.type === "section" && section.text);
  assert.ok(section.text.text.length <= 3000, `${section.text.text.length} characters`);
  assert.match(section.text.text, /Shortened: <http:\/\/airlock\.test\/requests\/r_0a1b\|the full SQL is on the request page>/);
  const fields = message.blocks[1].type === "section" ? message.blocks[1].fields! : [];
  for (const f of fields) assert.ok(f.text.length <= FIELD_CHARS + 20);
});

test("limits: SQL_PREVIEW_CHARS and escapes that are never cut in half", () => {
  const block = codeBlock("x".repeat(10_000), SQL_PREVIEW_CHARS);
  assert.ok(block.clipped && block.text.length <= SQL_PREVIEW_CHARS);
  assert.deepEqual(clipEscaped("a&b", 6), { text: "a…", clipped: true });
  assert.deepEqual(clipEscaped("a&b", 7), { text: "a&amp;b", clipped: false });
  assert.equal(escapeMrkdwn("<a & b>"), "&lt;a &amp; b&gt;");
});

test("buttons read back; anything else is not Airlock's", () => {
  assert.deepEqual(readButton("airlock.approve.once", "r_0a1b"), { requestId: "r_0a1b", action: "approve", grant: "once" });
  assert.deepEqual(readButton("airlock.approve.900000", "r_0a1b"), { requestId: "r_0a1b", action: "approve", grant: 900_000 });
  assert.deepEqual(readButton("airlock.deny", "r_0a1b"), { requestId: "r_0a1b", action: "deny" });
  for (const [id, value] of [["airlock.approve.forever", "r_0a1b"], ["airlock.approve.-5", "r_0a1b"], ["airlock.approve.once", "r_0a1b' or 1=1"], ["other.button", "r_0a1b"], ["airlock.deny", undefined]] as const) {
    assert.equal(readButton(id, value), undefined, `${id} ${value}`);
  }
});

test("the deny form carries the request; its reason is required and bounded", () => {
  const view = denyModal(request());
  assert.equal(view.private_metadata, "r_0a1b");
  const submitted = (reason: string, id = "r_0a1b") => readDenial({ private_metadata: id, state: { values: { reason: { reason: { value: reason } } } } });
  assert.deepEqual(submitted("  not before the audit "), { requestId: "r_0a1b", reason: "not before the audit" });
  assert.equal(submitted(""), undefined);
  assert.equal(submitted("x".repeat(REASON_MAX_CHARS + 1)), undefined);
  assert.equal(submitted("fine", "../etc"), undefined);
});

test("access asked for shows what, how long and why instead of SQL; buttons offer the length asked and shorter", () => {
  const message = requestMessage(
    request({ kind: "access", statements: [], scope: accessScope(ACCESS_LEVELS.write, [ALL_TABLES]), durationMs: 900_000, reason: "fix <@U0BOB> orders", grantOptions: [900_000, 600_000, 300_000] }),
    [],
    URL,
  );
  const text = shown(message);
  assert.match(message.text, /reporting-agent asks for write access to demo for 15 min/);
  assert.ok(text.includes("*Duration*\\n15 min") && text.includes("*Scope*\\nread/session/copy out/insert/update/delete/merge/copy in every table"), text);
  assert.ok(text.includes("*Reason*\\nfix &lt;@U0BOB&gt; orders") && !text.includes("```"), text);
  const actions = message.blocks.find((b) => b.type === "actions");
  assert.deepEqual(actions?.type === "actions" && actions.elements.map((e) => (e.type === "button" ? e.text.text : "")), ["Approve for 15 min", "Approve for 10 min", "Approve for 5 min", "Deny"]);
});
