/**
 * Shrinks a failing case: drops runs of steps, then single steps, keeping each removal after
 * which the same kind of finding still shows. Bounded in tries and time, since each try is a live
 * session (and a stuck one lasts the whole stuck bound).
 */
import type { FuzzCase } from "./case";

export async function minimize(c: FuzzCase, stillFails: (candidate: FuzzCase) => Promise<boolean>, budget: { tries: number; ms: number }): Promise<{ case: FuzzCase; tries: number }> {
  let best = c;
  let tries = 0;
  const deadline = Date.now() + budget.ms;
  const more = () => tries < budget.tries && Date.now() < deadline;
  for (let chunk = Math.ceil(best.steps.length / 2); chunk >= 1 && more(); chunk = chunk === 1 ? 0 : Math.ceil(chunk / 2)) {
    for (let start = 0; start < best.steps.length && more(); ) {
      const candidate = { ...best, steps: [...best.steps.slice(0, start), ...best.steps.slice(start + chunk)] };
      tries++;
      if (await stillFails(candidate)) best = candidate;
      else start += chunk;
    }
  }
  return { case: best, tries };
}
