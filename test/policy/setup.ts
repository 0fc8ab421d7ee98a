import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import pg from "pg";
import postgres from "postgres";
import { databaseState } from "./database-state";
import { startPostgres, type TestPostgres } from "../support/postgres";
import { startProxyHarness, type ProxyHarness } from "../support/proxy-harness";

/** The policy under attack: agents may read, nothing else. */
export const READ_ONLY_RULES = `rules:
  - name: agents-read
    match: { groups: [agents], kinds: [select] }
    action: allow`;

/** Plain tables, a sequence and a plain view: what reads and refusals work on. */
export const BASE_FIXTURE = `
  CREATE TABLE t (id int PRIMARY KEY, v text);
  INSERT INTO t VALUES (1, 'one'), (2, 'two'), (3, 'three');
  CREATE TABLE t_ok (id int PRIMARY KEY, note text);
  INSERT INTO t_ok VALUES (1, 'ok');
  CREATE SEQUENCE s;
  CREATE VIEW v_plain AS SELECT id, v FROM t;
`;

/**
 * Everything an agent could use to smuggle a write into something that looks like a read: user
 * functions (g declared STABLE and h IMMUTABLE although both call nextval, k IMMUTABLE although it
 * calls f, which inserts), a procedure, an operator, a cast, a domain check, an aggregate and a
 * view that write, and a role to become.
 */
export const HOSTILE_FIXTURE = `
  CREATE FUNCTION public.f() RETURNS int LANGUAGE plpgsql AS $$
    BEGIN INSERT INTO public.t SELECT coalesce(max(id), 0) + 1, 'from f' FROM public.t; RETURN 1; END $$;
  CREATE FUNCTION public.g() RETURNS bigint STABLE LANGUAGE plpgsql AS $$ BEGIN RETURN nextval('public.s'); END $$;
  CREATE FUNCTION public.h() RETURNS bigint IMMUTABLE LANGUAGE plpgsql AS $$ BEGIN RETURN nextval('public.s'); END $$;
  CREATE FUNCTION public.k() RETURNS int IMMUTABLE LANGUAGE plpgsql AS $$ BEGIN RETURN public.f(); END $$;
  CREATE PROCEDURE public.p() LANGUAGE sql AS $$ INSERT INTO public.t SELECT coalesce(max(id), 0) + 1, 'from p' FROM public.t $$;
  CREATE FUNCTION public.plus3(a int, b int) RETURNS int LANGUAGE plpgsql AS $$
    BEGIN INSERT INTO public.t SELECT coalesce(max(id), 0) + 1, 'from +++!' FROM public.t; RETURN a + b; END $$;
  -- "+++" itself cannot be: an operator name may end in + only if it also has one of ~ ! @ # % ^ & | ?
  CREATE OPERATOR public.+++! (LEFTARG = int, RIGHTARG = int, FUNCTION = public.plus3);
  CREATE VIEW v_side AS SELECT public.f() AS x;
  CREATE TYPE evil_box AS (x int);
  CREATE FUNCTION public.to_box(int) RETURNS evil_box LANGUAGE plpgsql AS $$
    BEGIN INSERT INTO public.t SELECT coalesce(max(id), 0) + 1, 'from a cast' FROM public.t; RETURN ROW($1)::evil_box; END $$;
  CREATE CAST (int AS evil_box) WITH FUNCTION public.to_box(int);
  CREATE DOMAIN evil_dom AS int CHECK (public.f() > 0);
  CREATE AGGREGATE public.evil_agg(int) (SFUNC = public.plus3, STYPE = int, INITCOND = '0');
  CREATE ROLE evil_role;
`;

/** A schema whose lower(text) writes: first on a search_path, it shadows pg_catalog.lower. */
export const SHADOW_FIXTURE = `
  CREATE SCHEMA evil;
  CREATE FUNCTION evil.lower(text) RETURNS text LANGUAGE plpgsql AS $$
    BEGIN INSERT INTO public.t SELECT coalesce(max(id), 0) + 1, 'from evil.lower' FROM public.t; RETURN $1; END $$;
`;

export interface PolicyTestEnv {
  harness: ProxyHarness;
  postgres: TestPostgres;
  /** Superuser connection straight to PostgreSQL, around the proxy: setup and checks. */
  admin: pg.Client;
}

/**
 * A real PostgreSQL with `fixture` applied as superuser, behind the proxy under `rules`, once per
 * test file. The resource is `pg`; with `demo`, the embedded PGlite demo database is `demo` too.
 * A file's own setup and teardown go in `setUp`/`tearDown`: under Node 20 a second top-level
 * before() hook does not wait for this one.
 */
export function withPolicyProxy(options: {
  rules: string;
  fixture: string;
  demo?: boolean;
  setUp?: (env: PolicyTestEnv) => Promise<void>;
  tearDown?: () => Promise<void>;
}): () => PolicyTestEnv {
  let env: PolicyTestEnv | undefined;
  before(async () => {
    const server = await startPostgres();
    const admin = new pg.Client({ connectionString: server.url });
    try {
      await admin.connect();
      await admin.query(options.fixture);
    } catch (err) {
      await admin.end().catch(() => undefined);
      await server.stop(); // after() cannot: env is not set yet
      throw err;
    }
    const resources: Record<string, string> = { pg: server.url };
    if (options.demo) resources.demo = "pglite://demo";
    const harness = await startProxyHarness(resources, { rules: options.rules }).catch(async (err: unknown) => {
      await admin.end();
      await server.stop();
      throw err;
    });
    env = { harness, postgres: server, admin };
    await options.setUp?.(env);
  });
  after(async () => {
    await options.tearDown?.();
    await env?.admin.end();
    await env?.harness.close();
    await env?.postgres.stop();
  });
  return () => {
    if (!env) throw new Error("the proxy is not started yet");
    return env;
  };
}

/** How a statement reaches the proxy: a Query message, or Parse/Bind/Execute/Sync. */
export type Protocol = "simple" | "extended";
export const PROTOCOLS: readonly Protocol[] = ["simple", "extended"];

/**
 * postgres.js runs `unsafe(text)` without parameters over the simple protocol (`simple` defaults
 * to `args.length === 0`, node_modules/postgres/src/index.js); `simple: false` with `prepare: false`
 * makes it send Parse, Describe, Bind, Execute and Sync for the unnamed statement.
 */
const EXTENDED_UNSAFE = { prepare: false, simple: false };

export type Row = Record<string, unknown>;

/** One agent connection that runs whole SQL strings over one protocol. */
export interface AgentSession {
  readonly protocol: Protocol;
  /** The rows of every result, in order. */
  query(text: string): Promise<Row[]>;
  close(): Promise<void>;
}

/**
 * node-postgres for the simple protocol (`query(text)` with no values sends Query), postgres.js
 * for the extended. `fetchTypes: false` skips postgres.js's array-type query at connect.
 */
export async function openAgent(url: string, protocol: Protocol, options: { fetchTypes?: boolean } = {}): Promise<AgentSession> {
  if (protocol === "simple") {
    const client = new pg.Client({ connectionString: url });
    client.on("error", () => undefined); // a session the server ends must fail its test, not the process
    await client.connect();
    return {
      protocol,
      async query(text) {
        const result: pg.QueryResult | pg.QueryResult[] = await client.query(text);
        return (Array.isArray(result) ? result : [result]).flatMap((r) => r.rows as Row[]);
      },
      close: () => client.end(),
    };
  }
  const sql = postgres(url, { max: 1, onnotice: () => undefined, fetch_types: options.fetchTypes ?? true });
  return {
    protocol,
    async query(text) {
      return [...(await sql.unsafe(text, [], EXTENDED_UNSAFE))] as Row[];
    },
    close: () => sql.end({ timeout: 5 }),
  };
}

interface DbError {
  code?: string;
  message?: string;
}

/** What a promise failed with, or undefined when it succeeded. */
export async function failure(run: Promise<unknown>): Promise<DbError | undefined> {
  try {
    await run;
    return undefined;
  } catch (err) {
    return err as DbError;
  }
}

/** Refused by Airlock: SQLSTATE 42501 and a message starting `airlock:` (or matching `message`). */
export async function assertRefused(run: Promise<unknown>, message: RegExp = /^airlock: /): Promise<DbError> {
  const err = await failure(run);
  assert.ok(err, "SECURITY: the statement was not refused; it ran");
  assert.equal(err.code, "42501", `expected a refusal (42501), got ${err.code}: ${err.message}`);
  assert.match(err.message ?? "", message);
  return err;
}

/** Statements run in order on one connection: "ok" must succeed, "refused" must get 42501. */
export interface Sequence {
  name: string;
  steps: Array<[sql: string, expect: "ok" | "refused"]>;
}

/** One test per sequence and protocol, each on a fresh connection; PostgreSQL must not change. */
export function sequenceTests(env: () => PolicyTestEnv, sequences: Sequence[], agentOptions: { fetchTypes?: boolean } = {}): void {
  for (const protocol of PROTOCOLS) {
    describe(`statement sequences over the ${protocol} protocol`, () => {
      for (const { name, steps } of sequences) {
        test(name, async () => {
          const { harness, admin } = env();
          const before = await databaseState(admin);
          const agent = await openAgent(await harness.url("pg"), protocol, agentOptions);
          try {
            for (const [sql, expect] of steps) {
              if (expect === "ok") await agent.query(sql);
              else await assertRefused(agent.query(sql));
            }
          } finally {
            await agent.close();
          }
          assert.deepEqual(await databaseState(admin), before, "SECURITY: the database changed");
        });
      }
    });
  }
}
