import type { NextConfig } from "next";

const config: NextConfig = {
  poweredByHeader: false,
  // `npm run typecheck` checks the whole project (tests too); the build need not do it again.
  typescript: { ignoreBuildErrors: true },
  // Native and Node-only packages stay outside the bundle; server.ts loads the same copies.
  serverExternalPackages: ["better-sqlite3", "drizzle-orm", "oidc-provider", "libpg-query", "@electric-sql/pglite"],
};

export default config;
