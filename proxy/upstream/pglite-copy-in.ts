import { MessageBuffer } from "../protocol/message-buffer";
import { Backend, Frontend } from "../protocol/message-codes";
import { readQuery } from "../protocol/reader";
import { writeCopyFail, writeErrorResponse } from "../protocol/writer";
import { PgWireError, SqlState } from "../wire-error";

const COPY_FROM_STDIN = /^\s*copy\b[\s\S]*\bfrom\s+stdin\b/i;
const BINARY_FORMAT = /\bformat\s*\(?\s*binary\b|\bbinary\b/i;

/** COPY data the adapter keeps in memory for one COPY; past it the COPY fails, as a server out of room would. */
export const MAX_GATHERED_COPY_BYTES = 64 * 1024 * 1024;

const TOO_MUCH = `airlock: COPY data over ${MAX_GATHERED_COPY_BYTES / 1024 / 1024} MB is more than the embedded database takes in one COPY`;

/**
 * PGlite reads a request to its end at once, so `COPY … FROM STDIN` fails there unless the data
 * arrives in the same batch. This adapter answers CopyInResponse itself, gathers the agent's
 * CopyData up to CopyDone/CopyFail, and hands PGlite the whole exchange in one batch, dropping
 * PGlite's own CopyInResponse from the answer. Any other message but Flush or Sync ends the
 * session as PostgreSQL ends it (08P01, then FATAL: it has lost track of the messages), here
 * without PGlite ever seeing it: a FATAL inside PGlite stops the engine every agent shares.
 */
export class PgliteCopyIn {
  #gathering: Buffer[] | undefined;
  #gatheredBytes = 0;
  /** The COPY failed for its size: the agent's remaining COPY messages are dropped, as a server drops them. */
  #discarding = false;
  #dropNextCopyInResponse = false;
  readonly #messages = new MessageBuffer(Number.MAX_SAFE_INTEGER);

  /**
   * Splits outgoing bytes into what may run now; `reply` receives the synthetic answers. Throws
   * the FATAL PgWireError that ends the session when a COPY is broken off by another message.
   */
  outgoing(data: Buffer, reply: (bytes: Buffer) => void): Buffer[] {
    this.#messages.push(data);
    const ready: Buffer[] = [];
    for (let m = this.#messages.next(); m; m = this.#messages.next()) {
      if (this.#discarding && COPY_MESSAGES.has(m.type)) {
        this.#discarding = m.type === Frontend.CopyData;
      } else if (this.#gathering) {
        this.#gather(m.raw, m.type, ready, reply);
      } else if (m.type === Frontend.Query && COPY_FROM_STDIN.test(readQuery(m.body))) {
        this.#discarding = false;
        this.#gathering = [m.raw];
        this.#gatheredBytes = m.raw.length;
        reply(copyInResponse(BINARY_FORMAT.test(readQuery(m.body)) ? 1 : 0));
      } else ready.push(m.raw);
    }
    return ready;
  }

  /** Removes PGlite's CopyInResponse from the start of the answer to a gathered COPY. */
  incoming(chunk: Buffer): Buffer {
    if (!this.#dropNextCopyInResponse || chunk[0] !== Backend.CopyInResponse) return chunk;
    this.#dropNextCopyInResponse = false;
    return chunk.subarray(chunk.readInt32BE(1) + 1);
  }

  #gather(raw: Buffer, type: number, ready: Buffer[], reply: (bytes: Buffer) => void): void {
    const gathering = this.#gathering!;
    if (!COPY_MESSAGES.has(type) && type !== Frontend.Flush && type !== Frontend.Sync) {
      this.#gathering = undefined;
      reply(writeErrorResponse({ severity: "ERROR", code: SqlState.ProtocolViolation, message: `unexpected message type 0x${type.toString(16).toUpperCase().padStart(2, "0")} during COPY from stdin` }));
      throw PgWireError.fatal(SqlState.ProtocolViolation, "terminating connection because protocol synchronization was lost");
    }
    this.#gatheredBytes += raw.length;
    if (type === Frontend.CopyData && this.#gatheredBytes > MAX_GATHERED_COPY_BYTES) {
      gathering.push(writeCopyFail(TOO_MUCH));
      this.#discarding = true;
    } else {
      gathering.push(raw);
      if (type === Frontend.CopyData || type === Frontend.Flush || type === Frontend.Sync) return;
    }
    ready.push(Buffer.concat(gathering));
    this.#gathering = undefined;
    this.#gatheredBytes = 0;
    this.#dropNextCopyInResponse = true;
  }
}

const COPY_MESSAGES = new Set<number>([Frontend.CopyData, Frontend.CopyDone, Frontend.CopyFail]);

/** CopyInResponse with no per-column formats: clients only read the overall format. */
function copyInResponse(format: number): Buffer {
  const out = Buffer.alloc(8);
  out[0] = Backend.CopyInResponse;
  out.writeInt32BE(7, 1);
  out[5] = format;
  out.writeInt16BE(0, 6);
  return out;
}
