import { afterEach, test } from "node:test";
import assert from "node:assert/strict";
import { configureLogs, logger, readLogSettings } from "./log";

const written: string[] = [];
const original = { out: process.stdout.write.bind(process.stdout), err: process.stderr.write.bind(process.stderr) };

function capture(): void {
  written.length = 0;
  const sink = (chunk: string | Uint8Array) => (written.push(String(chunk)), true);
  process.stdout.write = sink as typeof process.stdout.write;
  process.stderr.write = sink as typeof process.stderr.write;
}

afterEach(() => {
  process.stdout.write = original.out;
  process.stderr.write = original.err;
  configureLogs({ format: "text", level: "info" });
});

test("JSON lines: one object per line with time, level, component, message and fields; secret-named fields never written", () => {
  configureLogs({ format: "json", level: "info" });
  capture();
  logger("proxy").warn("login refused", { agent: "reporting-agent", token: "eyJ.secret", password: "pw", authorization: "Bearer x" });
  const [line] = written;
  assert.ok(line.endsWith("\n") && !line.slice(0, -1).includes("\n"));
  const entry = JSON.parse(line) as Record<string, unknown>;
  assert.equal(entry.level, "warn");
  assert.equal(entry.component, "proxy");
  assert.equal(entry.msg, "login refused");
  assert.equal(entry.agent, "reporting-agent");
  assert.ok(!Number.isNaN(Date.parse(String(entry.time))));
  for (const key of ["token", "password", "authorization"]) assert.equal(entry[key], "[redacted]");
  assert.ok(!line.includes("eyJ.secret") && !line.includes("Bearer x"));
});

test("errors are written as type, message, code and stack", () => {
  configureLogs({ format: "json", level: "info" });
  capture();
  logger("store").error("write failed", { err: Object.assign(new Error("disk full"), { code: "SQLITE_FULL" }) });
  const { err } = JSON.parse(written[0]) as { err: { type: string; message: string; code: string; stack: string } };
  assert.deepEqual([err.type, err.message, err.code], ["Error", "disk full", "SQLITE_FULL"]);
  assert.match(err.stack, /disk full/);
});

test("the level filters; text lines keep the readable [component] form", () => {
  configureLogs({ format: "text", level: "warn" });
  capture();
  const log = logger("proxy");
  log.info("hidden");
  log.warn("shown", { resource: "demo", token: "t0k" });
  assert.deepEqual(written, ["[proxy] shown resource=demo token=[redacted]\n"]);
});

test("settings are checked", () => {
  assert.deepEqual(readLogSettings({}), { format: "text", level: "info" });
  assert.deepEqual(readLogSettings({ AIRLOCK_LOG_FORMAT: "JSON", AIRLOCK_LOG_LEVEL: "debug" }), { format: "json", level: "debug" });
  assert.throws(() => readLogSettings({ AIRLOCK_LOG_FORMAT: "yaml" }), /AIRLOCK_LOG_FORMAT/);
  assert.throws(() => readLogSettings({ AIRLOCK_LOG_LEVEL: "verbose" }), /AIRLOCK_LOG_LEVEL/);
});
