import { maskBytes, mayHoldPii, maskText, type ColumnPlan, type MaskTally } from "../lib/masking/column-plan";
import { maskCopyRow } from "../lib/masking/copy-rows";
import type { DetectorName } from "../lib/masking/detectors";
import { copyBytes, partialAsciiInto, type Masker } from "../lib/masking/strategies";
import type { CopyFormat } from "../lib/sql/types";
import { writeCopyData } from "./protocol/writer";

export type ColumnPlans = ReadonlyArray<ColumnPlan | undefined>;

interface RowInArena {
  out: Buffer;
  start: number;
  /** Raw bytes up to here are in the arena already. */
  copied: number;
}

/** Masked rows are written into arenas of this size (a bigger row gets one of its own). */
const ARENA_BYTES = 256 * 1024;

/**
 * Masks one result as it streams, a row at a time: DataRow values (text or binary format) or
 * COPY rows, rewritten by the column plan. A row with nothing to mask goes on as the very bytes
 * the server sent. The plan may wait for the first row, when only the row shows the width.
 */
export class ResultMasker {
  #plan: ColumnPlans | undefined;
  #planned = false;
  #arena = Buffer.alloc(0);
  #arenaPos = 0;
  /** The row being rewritten: where it starts in the arena, and how much of the raw row is there. */
  #row: RowInArena | undefined;
  #skipHeader: boolean;

  constructor(
    private readonly planFor: (columns: number) => ColumnPlans | undefined,
    private readonly masker: Masker,
    private readonly detectors: readonly DetectorName[],
    private readonly tally: MaskTally,
    private readonly copy?: CopyFormat,
  ) {
    this.#skipHeader = copy?.header ?? false;
  }

  /**
   * A whole DataRow message in, the message to send out. Only planned columns are looked at. A
   * changed row is written into an arena, the unchanged fields copied around the masked values;
   * consecutive rows sit side by side there, so the output batch sends them as one slice.
   */
  dataRow(raw: Buffer): Buffer {
    const count = raw.readInt16BE(5);
    const plan = this.#planOf(count);
    if (!plan) return raw;
    this.#row = undefined;
    let offset = 7;
    for (let i = 0; i < count; i++) {
      const length = raw.readInt32BE(offset);
      const start = offset + 4;
      const end = start + Math.max(length, 0);
      const column = plan[i];
      if (column && length >= 0 && this.#maskField(column, raw, offset, start, end)) this.tally.add(i, column.name);
      offset = end;
    }
    const row = this.#row as RowInArena | undefined; // set by #maskField (TypeScript keeps the narrowing above)
    if (!row) return raw;
    this.#copyUpTo(raw, raw.length);
    row.out.writeInt32BE(this.#arenaPos - row.start - 1, row.start + 1);
    return row.out.subarray(row.start, this.#arenaPos);
  }

  /** Masks one field (its length word at `at`, its bytes from start to end); true if it changed. */
  #maskField(column: ColumnPlan, raw: Buffer, at: number, start: number, end: number): boolean {
    if (column.action === "whole" && column.kind === "text" && this.masker.strategy === "partial") {
      this.#copyUpTo(raw, at);
      const out = this.#reserve(8 + end - start); // the value, its length word, and what partial adds
      const written = partialAsciiInto(raw, start, end, out, this.#arenaPos + 4);
      if (written >= 0) {
        out.writeInt32BE(written - this.#arenaPos - 4, this.#arenaPos);
        this.#arenaPos = written;
        this.#row!.copied = end;
        return true;
      }
    } else if (column.action === "detect" && !mayHoldPii(raw, this.detectors, start, end)) return false;
    const masked = maskBytes(column, raw.subarray(start, end), this.masker, this.detectors);
    if (masked === undefined) return false;
    this.#copyUpTo(raw, at);
    const out = this.#reserve(4 + (masked?.length ?? 0));
    out.writeInt32BE(masked ? masked.length : -1, this.#arenaPos);
    this.#arenaPos += 4 + (masked ? masked.copy(out, this.#arenaPos + 4) : 0);
    this.#row!.copied = end;
    return true;
  }

  /** Starts the row in the arena on its first change; copies the raw bytes not yet there. */
  #copyUpTo(raw: Buffer, upTo: number): void {
    if (!this.#row) {
      // Room for the whole row however it grows: a partial email adds 3 bytes; a longer value comes through #reserve.
      const out = this.#reserve(raw.length + 4 * raw.readInt16BE(5));
      this.#row = { out, start: this.#arenaPos, copied: 0 };
    }
    const row = this.#row;
    if (upTo > row.copied) {
      this.#arenaPos = copyBytes(raw, row.copied, upTo, this.#reserve(upTo - row.copied), this.#arenaPos);
      row.copied = upTo;
    }
  }

  /** The arena with `bytes` free at #arenaPos; a row that outgrows it moves to a new one. */
  #reserve(bytes: number): Buffer {
    if (this.#arenaPos + bytes <= this.#arena.length) return this.#arena;
    // Earlier slices stay valid: an arena is never written again once left.
    const row = this.#row;
    const carried = row ? this.#arenaPos - row.start : 0;
    const fresh = Buffer.allocUnsafe(Math.max(ARENA_BYTES, 2 * (carried + bytes)));
    if (row) {
      row.out.copy(fresh, 0, row.start, this.#arenaPos);
      row.out = fresh;
      row.start = 0;
    }
    this.#arena = fresh;
    this.#arenaPos = carried;
    return fresh;
  }

  /** A whole CopyData message of a COPY … TO STDOUT in, the message to send out. */
  copyData(raw: Buffer): Buffer {
    if (this.#skipHeader) {
      this.#skipHeader = false;
      return raw;
    }
    const row = raw.toString("utf8", 5);
    const plan = this.#planOf(-1);
    if (!plan || !this.copy) return raw;
    const masked = maskCopyRow(row, this.copy, (i, value) => {
      const column = plan[i];
      const out = column ? maskText(column, value, this.masker) : undefined;
      if (out !== undefined) this.tally.add(i, column!.name);
      return out;
    });
    return masked === undefined ? raw : writeCopyData(Buffer.from(masked, "utf8"));
  }

  #planOf(columns: number): ColumnPlans | undefined {
    if (!this.#planned) {
      this.#plan = this.planFor(columns);
      this.#planned = true;
    }
    return this.#plan;
  }
}

