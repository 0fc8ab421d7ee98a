import path from "node:path";
import { parseArgs } from "node:util";
import { exportLines, parseRange, type ExportFormat } from "../lib/audit/export";
import { loadAuditKey } from "../lib/audit/checkpoints";
import { verifyChain } from "../lib/audit/verify";
import { loadConfig } from "../lib/config";
import { openStore } from "../lib/db/client";

/** `airlock audit verify` and `airlock audit export`, on the store in AIRLOCK_DATA_DIR. */
export async function auditCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const config = loadConfig();
  const store = openStore(config.dataDir, path.join(import.meta.dirname, "..", "drizzle"));
  try {
    if (sub === "verify") return verify(store.db, config.dataDir);
    if (sub === "export") return await exportTo(store.db, rest);
    console.error('airlock audit: say "verify" or "export"');
    return 2;
  } finally {
    store.close();
  }
}

function verify(db: Parameters<typeof verifyChain>[0], dataDir: string): number {
  const verdict = verifyChain(db, loadAuditKey(dataDir).publicKeyPem);
  if (verdict.ok) {
    console.log(`audit chain intact: ${verdict.rows} rows${verdict.head ? `, head ${verdict.head.id} ${verdict.head.hash}` : ""}; ${verdict.checkpoints} signed checkpoints hold`);
    return 0;
  }
  console.error(`audit chain broken at row ${verdict.rowId}: ${verdict.problem} (${verdict.rows} rows before it verified)`);
  return 1;
}

async function exportTo(db: Parameters<typeof verifyChain>[0], args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { format: { type: "string", default: "jsonl" }, from: { type: "string" }, to: { type: "string" } } });
  if (values.format !== "jsonl" && values.format !== "csv") {
    console.error(`airlock audit export: --format is jsonl or csv, got "${values.format}"`);
    return 2;
  }
  const range = parseRange(values.from, values.to);
  for (const line of exportLines(db, values.format as ExportFormat, range)) {
    // Respect the pipe: a slow reader (or `| head`) must not make this buffer the whole log.
    if (!process.stdout.write(line)) await new Promise((resolve) => process.stdout.once("drain", resolve));
  }
  return 0;
}
