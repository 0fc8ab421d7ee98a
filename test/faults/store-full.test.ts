/**
 * Issue 23, the embedded SQLite store (AIRLOCK_DATA_DIR/airlock.db) cannot be written: its data
 * dir is on a small tmpfs that the test fills to the last page, so every write that needs room hits
 * SQLITE_FULL (a read-only chmod does not stop root, and a read-only remount is refused while the
 * file is open for writing). `npm start` as users run it, against a real PostgreSQL target.
 * Verified: Airlock fails closed — statements run while the unwritten backlog is under
 * AIRLOCK_AUDIT_MAX_UNWRITTEN, then are refused 57P03 rather than run unaudited; a statement that
 * needs approval cannot open a hold and is refused in words; /api/ready says the store is down; the
 * server does not crash; and once there is room again it recovers without a restart: the backlog
 * is written, statements run again, every statement that ran is recorded and the chain verifies.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import Database from "better-sqlite3";
import pg from "pg";
import { verifyChain } from "../../lib/audit/verify";
import { openStore, STORE_FILE } from "../../lib/db/client";
import { startAirlock, type RunningAirlock } from "../support/airlock-server";
import { adminQuery, startPostgres, type TestPostgres } from "../support/postgres";
import { agentToken, proxyPort } from "../support/server-agent";
import { makeTempDir } from "../support/temp-dir";
import { writeFaultPolicy } from "./reads-and-reviewed-writes";

const MAX_UNWRITTEN = 20;
const TMPFS_SIZE = "64m";
const TIMEOUT_MS = 240_000;

type PgError = Error & { code?: string };

let target: TestPostgres;
let airlock: RunningAirlock | undefined;
let token: string;
let mounted = false;
let whyNot = "";
const dir = makeTempDir("store-full");
const mountPoint = path.join(dir.path, "disk");
const dataDir = path.join(mountPoint, "data");
const filler = path.join(mountPoint, "filler");

before(async () => {
  fs.mkdirSync(mountPoint);
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${TMPFS_SIZE},mode=0700`, "tmpfs", mountPoint], { stdio: "pipe" });
    mounted = true;
  } catch (err) {
    whyNot = `a tmpfs cannot be mounted here (${String((err as { stderr?: Buffer }).stderr ?? err).trim()}): the disk-full store cannot be staged`;
    return;
  }
  target = await startPostgres();
  await adminQuery(target, "create table counters (id int primary key, n int); insert into counters select g, 0 from generate_series(1, 10) g");
  const policy = writeFaultPolicy(dir.path, target.url);
  airlock = await startAirlock({ dataDir, env: { AIRLOCK_POLICY: policy, AIRLOCK_AUDIT_MAX_UNWRITTEN: String(MAX_UNWRITTEN) } });
  token = await agentToken(airlock);
}, { timeout: TIMEOUT_MS });
after(async () => {
  await airlock?.stop();
  await target?.stop();
  if (mounted) execFileSync("umount", ["-l", mountPoint]);
  dir.remove();
});

async function agent(): Promise<pg.Client> {
  const client = new pg.Client({ host: "127.0.0.1", port: await proxyPort(airlock!), user: "reporting-agent", password: token, database: "pg" });
  client.on("error", () => undefined);
  await client.connect();
  return client;
}

async function ready(): Promise<{ status: number; body: { checks: { store: string } } }> {
  const res = await fetch(`${airlock!.url}/api/ready`);
  return { status: res.status, body: (await res.json()) as { checks: { store: string } } };
}

/** Counts what the server recorded, on a read-only connection of the test's own (reads need no room). */
function recorded(): { ok: number; all: number } {
  const db = new Database(path.join(dataDir, STORE_FILE), { readonly: true, fileMustExist: true });
  try {
    return db.prepare("select count(*) filter (where outcome = 'ok') as ok, count(*) as \"all\" from statements").get() as { ok: number; all: number };
  } finally {
    db.close();
  }
}

/**
 * Takes away the last free page: the WAL is checkpointed and truncated first, so the next commit
 * must grow it (a WAL with room left from before would take writes for a while).
 */
function fillDisk(): void {
  const db = new Database(path.join(dataDir, STORE_FILE), { fileMustExist: true });
  try {
    // The busy handler waits out the server's own transactions; a checkpoint still blocked after it is retried.
    db.pragma("busy_timeout = 5000");
    let busy = 1;
    for (let i = 0; i < 5 && busy !== 0; i++) [{ busy }] = db.pragma("wal_checkpoint(TRUNCATE)") as { busy: number }[];
    assert.equal(busy, 0, "the WAL was checkpointed and truncated");
  } finally {
    db.close();
  }
  const fd = fs.openSync(filler, "w");
  try {
    for (const chunk of [1 << 20, 4096, 1]) {
      const zeros = Buffer.alloc(chunk);
      for (;;) {
        try {
          if (fs.writeSync(fd, zeros) < chunk) break;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === "ENOSPC") break;
          throw err;
        }
      }
    }
  } finally {
    fs.closeSync(fd);
  }
}

/** Polls until `check` holds; returns how long that took. Fails after `limitMs`. */
async function until(label: string, check: () => Promise<boolean> | boolean, limitMs = 30_000): Promise<number> {
  const started = Date.now();
  while (!(await Promise.resolve().then(check).catch(() => false))) {
    if (Date.now() - started > limitMs) assert.fail(`${label}: not within ${limitMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return Date.now() - started;
}

test("the SQLite store's disk fills and frees: statements run until the backlog is full then are refused 57P03, holds are refused, readiness says so, and all that ran is recorded after", { timeout: TIMEOUT_MS }, async (t) => {
  if (!mounted) return t.skip(whyNot);
  const worker = await agent();
  const approver = await agent();
  let ran = 0;
  try {
    for (let i = 0; i < 3; i++, ran++) await worker.query(`select n, ${i} as before_full from counters where id = 1`);
    await until("the first statements recorded", () => recorded().ok === ran);
    assert.equal((await ready()).status, 200);

    fillDisk();
    const full = Date.now();

    // A hold cannot be opened (the request cannot be written): refused at once, in words.
    await assert.rejects(approver.query("update counters set n = n + 1 where id = 3"), (err: PgError) => {
      console.log(`held statement on a full disk: ${err.code}: ${err.message}`);
      assert.equal(err.code, "57P03");
      assert.match(err.message, /store is not answering|audit trail cannot be written/);
      return true;
    });

    // Statements run while their records can wait, then are refused rather than run unaudited.
    let refusal: PgError | undefined;
    let during = 0;
    for (let i = 0; i < MAX_UNWRITTEN * 20 && !refusal; i++) {
      try {
        await worker.query(`select n, ${i} as while_full from counters where id = 1`);
        ran++;
        during++;
      } catch (err) {
        refusal = err as PgError;
      }
      // Each failed batch is kept and retried: give the writer time to fail, so the backlog builds.
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.ok(refusal, `refused once the backlog was full (${during} ran on the full disk)`);
    assert.equal(refusal.code, "57P03");
    assert.match(refusal.message, /audit trail cannot be written/);
    assert.ok(during <= MAX_UNWRITTEN, `${during} ran on the full disk, at most ${MAX_UNWRITTEN} may wait`);
    await assert.rejects(approver.query("select 1 as refused_too"), /audit trail cannot be written/, "every session is refused, none ended");

    const notReady = await ready();
    console.log(`/api/ready on the full disk: ${notReady.status} ${JSON.stringify(notReady.body.checks)}; ${during} ran before the refusals began (${Date.now() - full} ms)`);
    assert.equal(notReady.status, 503);
    assert.match(notReady.body.checks.store, /does not take writes/);
    assert.equal(await Promise.race([airlock!.exited.then(() => "exited"), Promise.resolve("running")]), "running", "no crash");

    // Room again: no restart, the backlog is written, statements run again.
    fs.rmSync(filler);
    const freed = Date.now();
    const runsAgain = await until("statements run again", async () => {
      await worker.query("select n, 'after' as after_full from counters where id = 1");
      ran++;
      return true;
    });
    assert.equal((await approver.query("select 1 as approver_back")).rowCount, 1);
    ran++;
    const readyAgain = await until("ready again", async () => (await ready()).status === 200);
    const allRecorded = await until("every statement that ran recorded", () => recorded().ok === ran);
    console.log(`room again: statements ran after ${runsAgain} ms, ready after ${readyAgain} ms, all ${ran} recorded after ${allRecorded} ms (${Date.now() - freed} ms in all)`);
    assert.match(airlock!.output(), /\[activity\] writing \d+ records failed \(\d+ in a row\); keeping them for the next try/, "the recorder did retry");

    // Once more, for sure: nothing recorded twice, nothing lost, and the chain holds.
    assert.equal(recorded().ok, ran);
    const store = await openStore({ dataDir });
    try {
      const verdict = await verifyChain(store);
      assert.equal(verdict.ok, true, JSON.stringify(verdict));
    } finally {
      await store.close();
    }
  } finally {
    await worker.end().catch(() => undefined);
    await approver.end().catch(() => undefined);
  }
});
