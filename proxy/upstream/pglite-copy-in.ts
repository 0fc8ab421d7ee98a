import { MessageBuffer } from "../protocol/message-buffer";
import { Backend, Frontend } from "../protocol/message-codes";
import { readQuery } from "../protocol/reader";

const COPY_FROM_STDIN = /^\s*copy\b[\s\S]*\bfrom\s+stdin\b/i;
const BINARY_FORMAT = /\bformat\s*\(?\s*binary\b|\bbinary\b/i;

/**
 * PGlite reads a request to its end at once, so `COPY … FROM STDIN` fails there unless the data
 * arrives in the same batch. This adapter answers CopyInResponse itself, gathers the agent's
 * CopyData up to CopyDone/CopyFail, and hands PGlite the whole exchange in one batch, dropping
 * PGlite's own CopyInResponse from the answer.
 */
export class PgliteCopyIn {
  #gathering: Buffer[] | undefined;
  #dropNextCopyInResponse = false;
  readonly #messages = new MessageBuffer(Number.MAX_SAFE_INTEGER);

  /** Splits outgoing bytes into what may run now; `reply` receives the synthetic CopyInResponse. */
  outgoing(data: Buffer, reply: (bytes: Buffer) => void): Buffer[] {
    this.#messages.push(data);
    const ready: Buffer[] = [];
    for (let m = this.#messages.next(); m; m = this.#messages.next()) {
      if (this.#gathering) {
        this.#gathering.push(m.raw);
        if (m.type === Frontend.CopyDone || m.type === Frontend.CopyFail) {
          ready.push(Buffer.concat(this.#gathering));
          this.#gathering = undefined;
          this.#dropNextCopyInResponse = true;
        }
      } else if (m.type === Frontend.Query && COPY_FROM_STDIN.test(readQuery(m.body))) {
        this.#gathering = [m.raw];
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
}

/** CopyInResponse with no per-column formats: clients only read the overall format. */
function copyInResponse(format: number): Buffer {
  const out = Buffer.alloc(8);
  out[0] = Backend.CopyInResponse;
  out.writeInt32BE(7, 1);
  out[5] = format;
  out.writeInt16BE(0, 6);
  return out;
}
