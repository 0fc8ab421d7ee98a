import type pg from "pg";

/**
 * Everything an attempted write, side effect or privilege change would leave behind, read as
 * superuser straight from PostgreSQL: take it before the attack and compare after.
 */
const PROBES = {
  t: "SELECT id, v FROM public.t ORDER BY id",
  t_ok: "SELECT id, note FROM public.t_ok ORDER BY id",
  sequence: "SELECT last_value::text, is_called FROM public.s",
  // Temp relations of every session (pg_temp_N), new tables, views, indexes; relfilenode moves
  // on TRUNCATE, VACUUM FULL, CLUSTER and REINDEX; relacl on GRANT and REVOKE.
  relations: `SELECT n.nspname ~ '^pg_(toast_)?temp' AS temporary, n.nspname, c.relname, c.relkind, c.relfilenode::text, c.relacl::text, c.relowner::regrole::text AS owner
              FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE n.nspname IN ('public', 'evil') OR n.nspname ~ '^pg_(toast_)?temp' ORDER BY 2, 3`,
  columns: "SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = 'public' ORDER BY 1, 2",
  functions: `SELECT n.nspname, p.proname, p.prokind, p.provolatile, md5(p.prosrc) AS body, p.proacl::text
              FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
              WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2`,
  operators: "SELECT oprname, oprcode::text FROM pg_operator WHERE oprnamespace <> 'pg_catalog'::regnamespace ORDER BY 1",
  schemas: "SELECT nspname, nspacl::text FROM pg_namespace ORDER BY 1",
  roles: "SELECT rolname, rolsuper, rolinherit, rolcreaterole, rolcreatedb, rolcanlogin, rolreplication, rolbypassrls FROM pg_roles ORDER BY 1",
  memberships: "SELECT roleid::regrole::text AS role, member::regrole::text AS member FROM pg_auth_members ORDER BY 1, 2",
  roleSettings: "SELECT setdatabase::text, setrole::text, setconfig::text FROM pg_db_role_setting ORDER BY 1, 2",
  fileSettings: "SELECT sourcefile, name, setting FROM pg_file_settings ORDER BY 1, 2",
  defaultPrivileges: "SELECT defaclrole::regrole::text, defaclobjtype, defaclacl::text FROM pg_default_acl ORDER BY 1, 2",
  comments: "SELECT objoid::text, classoid::regclass::text, description FROM pg_description WHERE objoid >= 16384 ORDER BY 1, 2",
  triggers: "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal ORDER BY 1",
  largeObjects: "SELECT count(*)::int AS n FROM pg_largeobject_metadata",
  preparedTransactions: "SELECT gid FROM pg_prepared_xacts ORDER BY 1",
  maintenance: "SELECT relname, vacuum_count::int, analyze_count::int FROM pg_stat_user_tables ORDER BY 1",
  checkpoints: "SELECT checkpoints_req::int FROM pg_stat_bgwriter",
} as const;

export type DatabaseState = Record<keyof typeof PROBES, unknown[]>;

export async function databaseState(admin: pg.Client): Promise<DatabaseState> {
  const state: Partial<DatabaseState> = {};
  for (const [name, sql] of Object.entries(PROBES) as Array<[keyof typeof PROBES, string]>) {
    state[name] = (await admin.query(sql)).rows;
  }
  return state as DatabaseState;
}
