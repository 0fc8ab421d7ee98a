import path from "node:path";
import { parseArgs } from "node:util";
import { exportLines, parseRange, type ExportFormat } from "../lib/audit/export";
import { sharedAuditKey } from "../lib/audit/checkpoints";
import { verifyChain } from "../lib/audit/verify";
import { loadConfig } from "../lib/config";
import { openStore, type Store } from "../lib/db/client";

/** `airlock audit verify` and `airlock audit export`, on the store AIRLOCK_STORE_URL names, else the one in AIRLOCK_DATA_DIR. */
export async function auditCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const config = loadConfig();
  const store = await openStore({ dataDir: config.dataDir, url: config.storeUrl, migrationsFolder: path.join(import.meta.dirname, "..", "drizzle") });
  try {
    if (sub === "verify") return await verify(store, config.dataDir);
    if (sub === "export") return await exportTo(store, rest);
    console.error('airlock audit: say "verify" or "export"');
    return 2;
  } finally {
    await store.close();
  }
}

async function verify(store: Store, dataDir: string): Promise<number> {
  const verdict = await verifyChain(store, (await sharedAuditKey(store, dataDir)).publicKeyPem);
  if (verdict.ok) {
    console.log(`audit chain intact: ${verdict.rows} rows${verdict.head ? `, head ${verdict.head.id} ${verdict.head.hash}` : ""}; ${verdict.checkpoints} signed checkpoints hold`);
    return 0;
  }
  console.error(`audit chain broken at row ${verdict.rowId}: ${verdict.problem} (${verdict.rows} rows before it verified)`);
  return 1;
}

async function exportTo(store: Store, args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { format: { type: "string", default: "jsonl" }, from: { type: "string" }, to: { type: "string" } } });
  if (values.format !== "jsonl" && values.format !== "csv") {
    console.error(`airlock audit export: --format is jsonl or csv, got "${values.format}"`);
    return 2;
  }
  const range = parseRange(values.from, values.to);
  for await (const line of exportLines(store, values.format as ExportFormat, range)) {
    // Respect the pipe: a slow reader (or `| head`) must not make this buffer the whole log.
    if (!process.stdout.write(line)) await new Promise((resolve) => process.stdout.once("drain", resolve));
  }
  return 0;
}
