/**
 * Collects messages bound for one socket and hands them over as few buffers as possible:
 * messages that sit side by side in the chunk they came in are sent as one slice, uncopied.
 */
export class OutputBatch {
  #parts: Buffer[] = [];
  #run: Buffer | undefined;
  #runEnd = 0;

  add(bytes: Buffer): void {
    const run = this.#run;
    if (run && bytes.buffer === run.buffer && bytes.byteOffset === this.#runEnd) {
      this.#runEnd += bytes.length;
      return;
    }
    this.#closeRun();
    this.#run = bytes;
    this.#runEnd = bytes.byteOffset + bytes.length;
  }

  /** Everything added since the last take, as one buffer; undefined when empty. */
  take(): Buffer | undefined {
    this.#closeRun();
    const parts = this.#parts;
    if (parts.length === 0) return undefined;
    this.#parts = [];
    return parts.length === 1 ? parts[0] : Buffer.concat(parts);
  }

  #closeRun(): void {
    const run = this.#run;
    if (!run) return;
    const length = this.#runEnd - run.byteOffset;
    this.#parts.push(length === run.length ? run : Buffer.from(run.buffer, run.byteOffset, length));
    this.#run = undefined;
  }
}
