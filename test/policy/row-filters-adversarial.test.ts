import assert from "node:assert/strict";
import { describe, test } from "node:test";
import pg from "pg";
import { assertRefused, PROTOCOLS, withPolicyProxy, type Protocol } from "./setup";

/**
 * Row filters against an agent that makes operators to stand in for the filter's: an `=` made
 * where no catalog Airlock read knows it (in this session, or in another after this one's catalog
 * was read), on a search_path before pg_catalog or for varchar on the default path, must not turn
 * the filter into `true`.
 */
const RULES = `rules:
  - name: filtered
    match: { groups: [agents], resources: [pg], kinds: [select, ddl, session] }
    action: allow
    rows:
      public.orders: "region = 'eu'"
      public.accounts: "region = 'eu'"
      public.invoices: "region IN ('eu', 'xx')"
      public.clients: "region LIKE 'e%'"`;

const FIXTURE = `
  CREATE TABLE orders (id int PRIMARY KEY, region text NOT NULL, total int NOT NULL);
  INSERT INTO orders SELECT i, (ARRAY['eu', 'us', 'apac'])[i % 3 + 1], i * 10 FROM generate_series(1, 30) i;
  CREATE TABLE accounts (id int PRIMARY KEY, region varchar(10) NOT NULL);
  INSERT INTO accounts SELECT i, (ARRAY['eu', 'us', 'apac'])[i % 3 + 1] FROM generate_series(1, 30) i;
  CREATE TABLE invoices (id int PRIMARY KEY, region varchar(10) NOT NULL);
  INSERT INTO invoices SELECT id, region FROM accounts;
  CREATE TABLE clients (id int PRIMARY KEY, region varchar(10) NOT NULL);
  INSERT INTO clients SELECT id, region FROM accounts;
  CREATE SCHEMA scratch;
`;

type Agent = Awaited<ReturnType<typeof agent>>;
/** Sessions opened before any test makes an operator: their catalog knows none. */
const early: Agent[] = [];

const env = withPolicyProxy({
  rules: RULES,
  fixture: FIXTURE,
  setUp: async () => {
    early.push(await agent(), await agent(), await agent(), await agent(), await agent());
  },
  tearDown: async () => {
    await Promise.all(early.map((a) => a.end()));
  },
});

/** One session; each statement over the simple protocol (Query) or the extended one (Parse/Bind/Execute). */
async function agent(): Promise<{ q: (text: string, protocol?: Protocol) => Promise<pg.QueryResult>; end: () => Promise<void> }> {
  const client = new pg.Client({ connectionString: await env().harness.url("pg") });
  client.on("error", () => undefined);
  await client.connect();
  return { q: (text, protocol = "simple") => (protocol === "simple" ? client.query(text) : client.query({ text, queryMode: "extended" } as pg.QueryConfig)), end: () => client.end() };
}

const EU = 10;

describe("an operator made in another session, on a path before pg_catalog", () => {
  test("the filtered read is refused while the path puts a schema before pg_catalog (both protocols), and filtered again once it does not", async () => {
    const a = early[0];
    const b = await agent();
    try {
      assert.equal((await a.q("SELECT count(*)::int AS n FROM public.orders")).rows[0].n, EU, "the catalog is read, the filter applies");
      // Made by another session: a's catalog does not know it.
      await b.q("CREATE FUNCTION scratch.yes(text, text) RETURNS boolean LANGUAGE sql IMMUTABLE AS 'SELECT true'");
      await b.q("CREATE OPERATOR scratch.= (LEFTARG = text, RIGHTARG = text, FUNCTION = scratch.yes)");
      await a.q("SET search_path = scratch, public, pg_catalog");
      for (const protocol of PROTOCOLS) {
        for (const sql of ["SELECT count(*)::int AS n FROM public.orders", "SELECT count(*)::int AS n FROM orders", "SELECT id FROM public.orders WHERE id = 2"]) {
          await assertRefused(a.q(sql, protocol), /search_path puts a schema before pg_catalog/);
        }
      }
      await a.q("SET search_path = pg_catalog, scratch, public");
      for (const protocol of PROTOCOLS) assert.equal((await a.q("SELECT count(*)::int AS n FROM orders", protocol)).rows[0].n, EU, "pg_catalog first: PostgreSQL's = again");
      await a.q("RESET search_path");
      assert.equal((await a.q("SELECT count(*)::int AS n FROM public.orders")).rows[0].n, EU);
    } finally {
      await b.end();
    }
  });
});

describe("an operator made in the session, on the default path", () => {
  test("a schema change and a filtered read in one Query: the read refuses", async () => {
    const a = early[2];
    assert.equal((await a.q("SELECT count(*)::int AS n FROM accounts")).rows[0].n, EU);
    await assertRefused(a.q("CREATE TABLE scratch.made_here (x int); SELECT count(*)::int AS n FROM accounts"), /ran a schema change/);
  });

  test("public.= for varchar (found before pg_catalog's text =): filtered reads of the session refuse after the schema change", async () => {
    const a = early[1];
    assert.equal((await a.q("SELECT count(*)::int AS n FROM accounts")).rows[0].n, EU);
    await a.q("CREATE FUNCTION public.yes(varchar, varchar) RETURNS boolean LANGUAGE sql IMMUTABLE AS 'SELECT true'");
    await a.q("CREATE OPERATOR public.= (LEFTARG = varchar, RIGHTARG = varchar, FUNCTION = public.yes)");
    for (const protocol of PROTOCOLS) {
      for (const sql of ["SELECT count(*)::int AS n FROM accounts", "SELECT id FROM public.accounts WHERE id = 2"]) {
        await assertRefused(a.q(sql, protocol), /ran a schema change/);
      }
    }
    assert.equal((await a.q("SELECT 1 AS one")).rows[0].one, 1, "what reaches no filtered table still runs");
  });

  test("another session, whose catalog predates that operator, still reads only filtered rows: the filter names pg_catalog's", async () => {
    const other = early[3];
    for (const protocol of PROTOCOLS) {
      assert.equal((await other.q("SELECT count(*)::int AS n FROM accounts", protocol)).rows[0].n, EU, "SECURITY: public.= for varchar stood in for the filter's");
      assert.deepEqual((await other.q("SELECT id FROM public.accounts WHERE region <> 'eu' ORDER BY id", protocol)).rows, []);
    }
  });
});

describe("IN and LIKE in a filter, after another session made operators of those names", () => {
  test("public.= and public.~~ for varchar stand in for neither: the filter names pg_catalog's", async () => {
    const a = early[4];
    const b = await agent();
    try {
      for (const protocol of PROTOCOLS) {
        assert.equal((await a.q("SELECT count(*)::int AS n FROM invoices", protocol)).rows[0].n, EU);
        assert.equal((await a.q("SELECT count(*)::int AS n FROM clients", protocol)).rows[0].n, EU);
      }
      // Made by another session after a's catalog was read (public.= for varchar may exist already).
      await b.q("CREATE FUNCTION public.yes_in(varchar, varchar) RETURNS boolean LANGUAGE sql IMMUTABLE AS 'SELECT true'");
      await b.q("CREATE FUNCTION public.yes_like(varchar, varchar) RETURNS boolean LANGUAGE sql IMMUTABLE AS 'SELECT true'");
      await b.q("CREATE OPERATOR public.~~ (LEFTARG = varchar, RIGHTARG = varchar, FUNCTION = public.yes_like)");
      await b.q("CREATE OPERATOR public.= (LEFTARG = varchar, RIGHTARG = varchar, FUNCTION = public.yes_in)").catch((err: Error) => assert.match(err.message, /already exists/, "made by an earlier test"));
      for (const protocol of PROTOCOLS) {
        assert.equal((await a.q("SELECT count(*)::int AS n FROM invoices", protocol)).rows[0].n, EU, "SECURITY: public.= for varchar stood in for IN's");
        assert.equal((await a.q("SELECT count(*)::int AS n FROM clients", protocol)).rows[0].n, EU, "SECURITY: public.~~ for varchar stood in for LIKE's");
        assert.deepEqual((await a.q("SELECT id FROM public.invoices WHERE region <> 'eu' UNION ALL SELECT id FROM public.clients WHERE region <> 'eu'", protocol)).rows, []);
      }
    } finally {
      await b.end();
    }
  });
});
