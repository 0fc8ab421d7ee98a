import { after, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { makeTempDir } from "../test/support/temp-dir";

const dir = makeTempDir("cli-policy");
after(() => dir.remove());

function airlock(...args: string[]) {
  return spawnSync(process.execPath, ["bin/airlock.mjs", ...args], { encoding: "utf8" });
}

test("policy check passes the shipped policy and names the line and field of a broken one", () => {
  const ok = airlock("policy", "check", "airlock.policy.yaml");
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /OK — 1 resource\(s\), 5 rule\(s\)/);

  const broken = path.join(dir.path, "broken.yaml");
  fs.writeFileSync(broken, `resources:\n  demo: { type: postgres, url: "pglite://demo" }\nrules:\n  - name: r\n    match: { kinds: [selec] }\n    action: allow\n`);
  const bad = airlock("policy", "check", broken);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /broken\.yaml:5: rules\.0\.match\.kinds\.0: /);
});

test("policy explain shows the classification, the deciding rule and the rules it passed over", () => {
  const read = airlock("policy", "explain", "--agent", "reporting-agent", "--resource", "demo", "--sql", "select email from customers");
  assert.equal(read.status, 0, read.stderr);
  assert.match(read.stdout, /decision: ALLOW by rule agents-read/);
  assert.match(read.stdout, /masking: {2}columns customers\.email/);
  assert.match(read.stdout, /reads: {5}public\.customers/);

  const write = airlock("policy", "explain", "--agent", "reporting-agent", "--resource", "demo", "--sql", "with d as (delete from refunds returning *) select * from d");
  assert.match(write.stdout, /decision: REVIEW by rule agents-write/);
  assert.match(write.stdout, /rule agents-read \(line \d+\): skipped — the statement is delete/);

  const program = airlock("policy", "explain", "--agent", "ops-agent", "--resource", "demo", "--sql", "copy (select 1) to program 'id'", "--json");
  const json = JSON.parse(program.stdout) as { verdict: { action: string; rule: { name: string } } };
  assert.equal(json.verdict.action, "deny");
  assert.equal(json.verdict.rule.name, "never-admin-or-privilege");

  const nobody = airlock("policy", "explain", "--agent", "stranger", "--groups", "contractors", "--resource", "demo", "--sql", "select 1");
  assert.match(nobody.stdout, /decision: DENY \(no rule matched\)/);

  const usage = airlock("policy", "explain", "--agent", "reporting-agent");
  assert.equal(usage.status, 2);
});

test("policy explain shows a statement under row filters as it runs", () => {
  const read = airlock("policy", "explain", "--agent", "reporting-agent", "--resource", "demo", "--sql", "select count(*) from refunds r");
  assert.equal(read.status, 0, read.stderr);
  assert.match(read.stdout, /runs as: {3}select count\(\*\) from \(SELECT \* FROM "public"\."refunds" AS airlock_rows WHERE \("airlock_rows"\.reason OPERATOR\(pg_catalog\.<>\) 'Fraud review'\) OFFSET 0\) r/);
  const table = airlock("policy", "explain", "--agent", "reporting-agent", "--resource", "demo", "--sql", "select * from refunds tablesample system (10)");
  assert.match(table.stdout, /refused: {3}rule agents-read filters rows: TABLESAMPLE of public\.refunds is refused/);
});
