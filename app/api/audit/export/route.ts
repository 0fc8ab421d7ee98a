import { personForRoute } from "@/app/current-person";
import { parseRange, type ExportRange } from "@/lib/audit/export";
import { auditExportStream } from "@/lib/audit/export-stream";

export const dynamic = "force-dynamic";

const FORMATS = {
  jsonl: { contentType: "application/x-ndjson", ext: "jsonl" },
  csv: { contentType: "text/csv; charset=utf-8", ext: "csv" },
} as const;

/** The audit log as a download, streamed: `?format=jsonl|csv&from=&to=` (ISO dates or times). Admins only. */
export async function GET(request: Request) {
  const asker = await personForRoute("audit.export");
  if (asker instanceof Response) return asker;

  const params = new URL(request.url).searchParams;
  const format = params.get("format") ?? "jsonl";
  if (format !== "jsonl" && format !== "csv") return error(400, "bad_format", `format is jsonl or csv, got "${format.slice(0, 40)}"`);
  let range: ExportRange;
  try {
    range = parseRange(params.get("from"), params.get("to"));
  } catch (err) {
    return error(400, "bad_date", (err as Error).message);
  }

  // A connection of its own: a slow download must not hold the one the proxy records through.
  const stream = auditExportStream(await asker.rt.store.reader(), format, range);
  const { contentType, ext } = FORMATS[format];
  return new Response(stream, {
    headers: {
      "Content-Type": contentType,
      "Content-Disposition": `attachment; filename=airlock-audit-${new Date().toISOString().slice(0, 10)}.${ext}`,
      "Cache-Control": "no-store",
      "X-Content-Type-Options": "nosniff",
    },
  });
}

function error(status: number, code: string, message: string) {
  return Response.json({ error: { code, message } }, { status, headers: { "Cache-Control": "no-store" } });
}
