import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { encode } from "@auth/core/jwt";
import { agentToken, api } from "./access/setup";
import { startAirlock, type RunningAirlock } from "./support/airlock-server";

const CAP = 55;
let airlock: RunningAirlock;
let cookie: string;
before(async () => {
  airlock = await startAirlock({ env: { AIRLOCK_MAX_PENDING_PER_AGENT: String(CAP) } });
  const secret = fs.readFileSync(path.join(airlock.dataDir, "auth-secret"), "utf8").trim();
  const name = "authjs.session-token";
  cookie = `${name}=${await encode({ token: { email: "bob@example.com", groups: ["db-approvers"] }, secret, salt: name })}`;
});
after(() => airlock?.stop());

const ask = (token: string, n: number) => api(airlock, token, "POST", "/api/v1/access-requests", { resource: "demo", access: "write", duration: "1h", reason: `batch ${n}` });
/** The queue page as bob sees it, without React's text separators. */
const queue = async (query = "") => (await (await fetch(`${airlock.url}/${query}`, { headers: { cookie } })).text()).replaceAll("<!-- -->", "");

test("one agent's burst stops at its cap with 429; the queue counts every waiting request and pages reach the other agent's", async () => {
  const [reporting, ops] = await Promise.all([agentToken(airlock), agentToken(airlock, "ops-agent")]);
  const first = await ask(ops, 0);
  assert.equal(first.status, 201);
  for (let n = 0; n < CAP; n++) assert.equal((await ask(reporting, n)).status, 201);
  const over = await ask(reporting, CAP);
  assert.equal(over.status, 429);
  assert.deepEqual(Object.keys(over.body), ["error"]);
  assert.deepEqual((over.body.error as { code: string }).code, "too_many_pending");
  assert.match((over.body.error as { message: string }).message, /^airlock: reporting-agent already has 55 requests waiting/);
  assert.equal((await ask(ops, 1)).status, 201, "the other agent is not held back");

  const page1 = await queue();
  assert.match(page1, /Waiting <span class="count">57<\/span>/);
  assert.match(page1, /Page 1 of 2/);
  const page2 = await queue("?page=2");
  assert.match(page2, /Page 2 of 2/);
  assert.ok(page2.includes(String(first.body.id)), "ops-agent's first request, buried under the burst, is on the last page");
});
