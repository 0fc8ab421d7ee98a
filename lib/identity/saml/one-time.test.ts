import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { startPostgres, type TestPostgres } from "../../../test/support/postgres";
import { openTestPostgresStore, openTestStore, type TestStore } from "../../../test/support/store";
import { OneTimeValues } from "./one-time";

/**
 * The replay cache and the pending AuthnRequests, on both stores: adds racing on the store's
 * connections to use one assertion, as instances on one PostgreSQL store would, give one winner.
 */
let server: TestPostgres;
before(async () => {
  server = await startPostgres();
});
after(async () => {
  await server?.stop();
});

for (const dialect of ["sqlite", "postgresql"] as const) {
  describe(`one-time values on ${dialect}`, () => {
    let primary: TestStore;
    before(async () => {
      primary = dialect === "sqlite" ? await openTestStore() : await openTestPostgresStore(server);
    });
    after(async () => {
      await primary?.close();
    });

    test("a value is kept once until it expires, then may be kept again", async () => {
      let now = Date.parse("2026-01-01T00:00:00Z");
      const values = new OneTimeValues(primary.store, () => now);
      const until = new Date(now + 60_000);
      assert.equal(await values.add("assertion:a", "x", until), true);
      assert.equal(await values.add("assertion:a", "x", until), false);
      assert.equal(await values.get("assertion:a"), "x");
      now += 60_000;
      assert.equal(await values.get("assertion:a"), undefined);
      assert.equal(await values.add("assertion:a", "y", new Date(now + 60_000)), true);
      await values.remove("assertion:a");
      assert.equal(await values.get("assertion:a"), undefined);
    });

    test("many instances adding one value at once: exactly one succeeds", async () => {
      const instances = Array.from({ length: 8 }, () => new OneTimeValues(primary.store));
      const until = new Date(Date.now() + 60_000);
      const results = await Promise.all(instances.map((v) => v.add("assertion:raced", "x", until)));
      assert.equal(results.filter(Boolean).length, 1);
    });
  });
}
