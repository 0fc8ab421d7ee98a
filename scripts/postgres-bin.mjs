import { existsSync, readdirSync } from "node:fs";

/** The newest Debian PostgreSQL server's bin dir (initdb, pg_ctl), or undefined. */
export function findPostgresBin() {
  const root = "/usr/lib/postgresql";
  const versions = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
  return versions.map((v) => `${root}/${v}/bin`).find((bin) => existsSync(`${bin}/initdb`) && existsSync(`${bin}/pg_ctl`));
}
