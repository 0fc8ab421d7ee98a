/**
 * compose.yaml's demo-seed: fills DEMO_DATABASE_URL with the demo shop the embedded `pglite://demo`
 * gets (lib/demo), once — a database that already has the shop's tables is left as it is, so the
 * data agents changed survives a restart. Run in the Airlock image: node --import tsx deploy/compose/seed-demo.ts
 */
import pg from "pg";
import { demoInsertSql, demoSchemaSql } from "../../lib/demo/seed-sql";

/** Creates and fills the shop's tables unless they exist; whether it did. */
export async function seedDemo(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ seeded: boolean }>("select to_regclass('public.customers') is not null as seeded");
    if (rows[0].seeded) return false;
    // One transaction: a seed cut short leaves no half-filled shop for the next run to skip.
    await client.query("begin");
    await client.query(demoSchemaSql());
    for (const sql of demoInsertSql()) await client.query(sql);
    await client.query("commit");
    return true;
  } catch (err) {
    await client.query("rollback").catch(() => undefined);
    throw err;
  } finally {
    await client.end();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const url = process.env.DEMO_DATABASE_URL;
  if (!url) {
    console.error("set DEMO_DATABASE_URL to the demo PostgreSQL database");
    process.exit(2);
  }
  const seeded = await seedDemo(url);
  console.log(seeded ? "[demo-seed] demo shop created" : "[demo-seed] demo shop already there");
}
