import { after, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { makeTempDir } from "../../test/support/temp-dir";
import { EventBus, type AirlockEvent } from "../events/bus";
import { PolicyError } from "./policy-file";
import { PolicySource } from "./source";

const dir = makeTempDir("policy");
after(() => dir.remove());

const GOOD = `resources:
  demo: { type: postgres, url: "pglite://demo" }
rules:
  - name: read
    match: { kinds: [select] }
    action: allow
`;

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 100 && !condition(); i++) await new Promise((r) => setTimeout(r, 50));
  assert.ok(condition(), what);
}

test("a good edit takes effect without a restart; a broken one is reported and the old policy stays", async () => {
  const file = path.join(dir.path, "airlock.policy.yaml");
  fs.writeFileSync(file, GOOD);
  const bus = new EventBus();
  const events: AirlockEvent[] = [];
  bus.subscribe((e) => events.push(e));
  const source = new PolicySource(file, bus).watch();
  try {
    assert.deepEqual(source.current.rules.map((r) => r.name), ["read"]);

    // A good edit, written in place.
    fs.writeFileSync(file, GOOD.replace("name: read", "name: read-everything"));
    await until(() => source.current.rules[0].name === "read-everything", "the edit is loaded");
    assert.equal(source.status.error, undefined);

    // A broken edit: the previous policy stays in force and the error names the line.
    fs.writeFileSync(file, GOOD.replace("action: allow", "action: maybe"));
    await until(() => source.status.error !== undefined, "the broken edit is reported");
    assert.match(source.status.error!.message, /airlock\.policy\.yaml:6: rules\.0\.action/);
    assert.equal(source.current.rules[0].name, "read-everything");
    assert.equal(source.current.rules[0].action, "allow");

    // An editor that replaces the file (write elsewhere, rename over): still picked up, error cleared.
    const tmp = path.join(dir.path, "policy.tmp");
    fs.writeFileSync(tmp, GOOD.replace("name: read", "name: read-again"));
    fs.renameSync(tmp, file);
    await until(() => source.current.rules[0].name === "read-again", "the replaced file is loaded");
    assert.equal(source.status.error, undefined);

    assert.ok(events.some((e) => e.type === "policy.changed" && !e.ok));
    assert.ok(events.some((e) => e.type === "policy.changed" && e.ok));
  } finally {
    source.close();
  }
});

test("starting with a broken or missing file is an error, with the line", () => {
  const file = path.join(dir.path, "broken.yaml");
  fs.writeFileSync(file, "resources:\n  demo: { type: mysql, url: x }\n");
  assert.throws(() => new PolicySource(file), (err: unknown) => err instanceof PolicyError && /broken\.yaml:2: resources\.demo\.type/.test(err.message));
  assert.throws(() => new PolicySource(path.join(dir.path, "missing.yaml")), /cannot read the policy file: ENOENT/);
});
