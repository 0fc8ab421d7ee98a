import type { MaskOptions } from "../policy/policy-file";
import type { DetectorName } from "./detectors";
import { createMasker, type Masker } from "./strategies";

/**
 * One Masker per strategy and set of detectors (a masker does not depend on the columns), shared
 * by every session, all with the data directory's hash key.
 */
export class Maskers {
  readonly #cache = new Map<string, Masker>();

  constructor(private readonly hashKey: Buffer) {}

  for(mask: MaskOptions): Masker {
    const detectors = [...new Set(mask.detect)].sort() as DetectorName[];
    const key = `${mask.strategy}:${detectors.join(",")}`;
    let masker = this.#cache.get(key);
    if (!masker) this.#cache.set(key, (masker = createMasker({ strategy: mask.strategy, detectors, hashKey: this.hashKey })));
    return masker;
  }
}
