import { maskBytes, maskText, type ColumnPlan, type MaskTally } from "../lib/masking/column-plan";
import { maskCopyRow } from "../lib/masking/copy-rows";
import type { DetectorName } from "../lib/masking/detectors";
import type { Masker } from "../lib/masking/strategies";
import type { CopyFormat } from "../lib/sql/types";
import { writeCopyData } from "./protocol/writer";

export type ColumnPlans = ReadonlyArray<ColumnPlan | undefined>;

/**
 * Masks one result as it streams, a row at a time: DataRow values (text or binary format) or
 * COPY rows, rewritten by the column plan. A row with nothing to mask goes on as the very bytes
 * the server sent. The plan may wait for the first row, when only the row shows the width.
 */
export class ResultMasker {
  #plan: ColumnPlans | undefined;
  #planned = false;
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
   * A whole DataRow message in, the message to send out. Only planned columns are looked at;
   * the new row is the old one's bytes with the masked values spliced in.
   */
  dataRow(raw: Buffer): Buffer {
    const count = raw.readInt16BE(5);
    const plan = this.#planOf(count);
    if (!plan) return raw;
    let changes: Array<{ start: number; end: number; value: Buffer | null }> | undefined;
    let offset = 7;
    for (let i = 0; i < count; i++) {
      const length = raw.readInt32BE(offset);
      const start = offset;
      offset += 4 + Math.max(length, 0);
      const column = plan[i];
      if (!column || length < 0) continue;
      const masked = maskBytes(column, raw.subarray(start + 4, offset), this.masker, this.detectors);
      if (masked === undefined) continue;
      (changes ??= []).push({ start, end: offset, value: masked });
      this.tally.add(i, column.name);
    }
    return changes ? splice(raw, changes) : raw;
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

/** The DataRow with some fields (length word and bytes, from start to end) replaced. */
function splice(raw: Buffer, changes: ReadonlyArray<{ start: number; end: number; value: Buffer | null }>): Buffer {
  let length = raw.length;
  for (const c of changes) length += 4 + (c.value?.length ?? 0) - (c.end - c.start);
  const out = Buffer.allocUnsafe(length);
  let from = 0;
  let to = 0;
  for (const c of changes) {
    to += raw.copy(out, to, from, c.start);
    out.writeInt32BE(c.value ? c.value.length : -1, to);
    to += 4;
    if (c.value) to += c.value.copy(out, to);
    from = c.end;
  }
  raw.copy(out, to, from);
  out.writeInt32BE(length - 1, 1);
  return out;
}
