import type { Store } from "../db/client";
import { exportLines, type ExportFormat, type ExportRange } from "./export";

/** Lines are gathered into chunks of about this many characters before they go out. */
export const EXPORT_CHUNK_CHARS = 64 * 1024;

/**
 * The export as a byte stream that reads the next rows only when the receiver asks for more
 * (`pull`), so memory holds about one chunk whatever the log's size or the client's speed. The
 * store is the caller's own reader (`store.reader()`); it is closed when the stream ends, fails or
 * is cancelled (a client that goes away).
 */
export function auditExportStream(reader: Store, format: ExportFormat, range: ExportRange): ReadableStream<Uint8Array> {
  const lines = exportLines(reader, format, range);
  const encoder = new TextEncoder();
  let open = true;
  const finish = async () => {
    if (!open) return;
    open = false;
    await lines.return(undefined); // ends the reading before the connection goes
    await reader.close();
  };
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          let chunk = "";
          while (chunk.length < EXPORT_CHUNK_CHARS) {
            const next = await lines.next();
            if (next.done) {
              if (chunk) controller.enqueue(encoder.encode(chunk));
              await finish();
              controller.close();
              return;
            }
            chunk += next.value;
          }
          controller.enqueue(encoder.encode(chunk));
        } catch (err) {
          await finish();
          throw err;
        }
      },
      cancel: finish,
    },
    // One chunk read ahead, no more.
    { highWaterMark: 1 },
  );
}
