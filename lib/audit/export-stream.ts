import type { Store } from "../db/client";
import { exportLines, type ExportFormat, type ExportRange } from "./export";

/** Lines are gathered into chunks of about this many characters before they go out. */
export const EXPORT_CHUNK_CHARS = 64 * 1024;

/**
 * The export as a byte stream that reads the next rows only when the receiver asks for more
 * (`pull`), so memory holds about one chunk whatever the log's size or the client's speed. The
 * store is the caller's own connection (see `openStoreReader`); it is closed when the stream
 * ends, fails or is cancelled (a client that goes away).
 */
export function auditExportStream(store: Store, format: ExportFormat, range: ExportRange): ReadableStream<Uint8Array> {
  const lines = exportLines(store.db, format, range);
  const encoder = new TextEncoder();
  let open = true;
  const finish = () => {
    if (!open) return;
    open = false;
    lines.return(undefined); // closes the cursor before the connection
    store.close();
  };
  return new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        try {
          let chunk = "";
          while (chunk.length < EXPORT_CHUNK_CHARS) {
            const next = lines.next();
            if (next.done) {
              if (chunk) controller.enqueue(encoder.encode(chunk));
              finish();
              controller.close();
              return;
            }
            chunk += next.value;
          }
          controller.enqueue(encoder.encode(chunk));
        } catch (err) {
          finish();
          throw err;
        }
      },
      cancel() {
        finish();
      },
    },
    // One chunk read ahead, no more.
    { highWaterMark: 1 },
  );
}
