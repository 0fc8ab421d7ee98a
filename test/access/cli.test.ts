import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import type { RunningAirlock } from "../support/airlock-server";
import { buttonClick, buttonIn, denySubmission, postInteraction } from "../support/slack-interactions";
import { about, SLACK_USERS, startSlackStandIn, succeeded, type SlackStandIn } from "../support/slack-stand-in";
import { makeTempDir } from "../support/temp-dir";
import { startAccessAirlock } from "./setup";

const dir = makeTempDir("cli");
let slack: SlackStandIn;
let airlock: RunningAirlock;

before(async () => {
  slack = await startSlackStandIn();
  airlock = await startAccessAirlock(slack, dir.path);
});
after(async () => {
  await airlock?.stop();
  await slack?.close();
  dir.remove();
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `npx airlock …` as a script runs it; `onStderr` sees progress as it is printed. */
function airlockCli(args: string[], onStderr?: (text: string) => void): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["bin/airlock.mjs", ...args], { env: { ...process.env, AIRLOCK_DATA_DIR: airlock.dataDir, AIRLOCK_PORT: String(airlock.port), AIRLOCK_TOKEN: "" } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d));
    child.stderr.on("data", (d: Buffer) => {
      stderr += d;
      onStderr?.(stderr);
    });
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** Presses `label` on the Slack message of the request the command printed; returns the request's id. */
async function decideWhenAsked(stderr: () => string, label: string): Promise<string> {
  for (let i = 0; i < 200 && !/request (r_[0-9a-f]+)/.test(stderr()); i++) await new Promise((r) => setTimeout(r, 50));
  const requestId = /request (r_[0-9a-f]+)/.exec(stderr())![1];
  const posted = await slack.waitFor("chat.postMessage", succeeded(requestId));
  await postInteraction(airlock.url, buttonClick(posted, SLACK_USERS.alice.id, buttonIn(posted, label)));
  return requestId;
}

describe("the airlock command for agents", () => {
  test("request --wait prints progress, then the DSN on approval (exit 0); grants lists it; grants return gives it back", async () => {
    let stderr = "";
    const running = airlockCli(["request", "--agent", "reporting-agent", "--resource", "demo", "--access", "write", "--for", "30m", "--reason", "cli test", "--wait"], (s) => (stderr = s));
    await decideWhenAsked(() => stderr, "Approve for 30 min");
    const run = await running;
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout.trim(), /^postgres:\/\/reporting-agent@127\.0\.0\.1:\d+\/demo$/);
    assert.match(run.stderr, /waiting for people to decide/);
    assert.match(run.stderr, /connect with your agent token as the password/);

    const grants = await airlockCli(["grants", "--agent", "reporting-agent", "--json"]);
    const [grant] = JSON.parse(grants.stdout) as Array<{ id: string; kinds: string[] }>;
    assert.ok(grant.kinds.includes("update"));
    const returned = await airlockCli(["grants", "return", grant.id, "--agent", "reporting-agent"]);
    assert.deepEqual([returned.code, returned.stdout.trim()], [0, `${grant.id} revoked`]);
    assert.equal((await airlockCli(["grants", "--agent", "reporting-agent"])).stdout.trim(), "no grants in force");
  });

  test("exit codes a script can branch on: denied 3, expired 4, pending 6, refused 1, misuse 2", async () => {
    let stderr = "";
    const denied = airlockCli(["request", "--agent", "reporting-agent", "--resource", "demo", "--kinds", "update", "--for", "10m", "--reason", "deny me", "--wait", "--json"], (s) => (stderr = s));
    const requestId = await decideWhenAsked(() => stderr, "Deny");
    const opened = await slack.waitFor("views.open", about(requestId));
    await postInteraction(airlock.url, denySubmission(opened, SLACK_USERS.alice.id, "not today"));
    const deniedRun = await denied;
    assert.equal(deniedRun.code, 3, deniedRun.stderr);
    assert.deepEqual((JSON.parse(deniedRun.stdout) as { denied: unknown }).denied, { by: "alice@example.com", reason: "not today" });

    const expired = await airlockCli(["request", "--agent", "ops-agent", "--resource", "demo", "--kinds", "delete", "--for", "10m", "--wait"]);
    assert.equal(expired.code, 4, expired.stderr);
    const pending = await airlockCli(["request", "--agent", "reporting-agent", "--resource", "demo", "--access", "write", "--for", "10m", "--reason", "later"]);
    assert.equal(pending.code, 6, pending.stderr);
    const refused = await airlockCli(["request", "--agent", "reporting-agent", "--resource", "demo", "--access", "write", "--for", "9h", "--reason", "too long"]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /allows at most 4h \(duration_too_long\)/);
    assert.equal((await airlockCli(["request", "--agent", "reporting-agent"])).code, 2);
  });
});
