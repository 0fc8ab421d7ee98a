import { maskBytes, maskText, type ColumnPlan, type MaskTally } from "../lib/masking/column-plan";
import { maskCopyRow } from "../lib/masking/copy-rows";
import type { DetectorName } from "../lib/masking/detectors";
import type { Masker } from "../lib/masking/strategies";
import type { CopyFormat } from "../lib/sql/types";
import { writeCopyData, writeDataRow } from "./protocol/writer";

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

  /** A whole DataRow message in, the message to send out. */
  dataRow(raw: Buffer): Buffer {
    const count = raw.readInt16BE(5);
    const plan = this.#planOf(count);
    if (!plan) return raw;
    const values: Array<Buffer | null> = new Array(count);
    let changed = false;
    let offset = 7;
    for (let i = 0; i < count; i++) {
      const length = raw.readInt32BE(offset);
      offset += 4;
      if (length < 0) {
        values[i] = null;
        continue;
      }
      const value = raw.subarray(offset, offset + length);
      offset += length;
      const column = plan[i];
      const masked = column ? maskBytes(column, value, this.masker, this.detectors) : undefined;
      if (masked === undefined) values[i] = value;
      else {
        values[i] = masked;
        changed = true;
        this.tally.add(column!.name);
      }
    }
    return changed ? writeDataRow(values) : raw;
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
      if (out !== undefined) this.tally.add(column!.name);
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
