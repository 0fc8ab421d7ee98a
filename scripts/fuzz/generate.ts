/** The whole case of session `index` in the run seeded `seed`: the same pair always makes the same case. */
import type { FuzzCase } from "./case";
import { startupSteps } from "./generate-startup";
import { SESSION_SCENARIOS, cutStep, sessionSteps, type SessionScenario } from "./generate-session";
import { Rng } from "./rng";

export const AGENTS = ["reporting-agent", "ops-agent"] as const;

export function generateCase(seed: number, index: number, resources: ReadonlyArray<FuzzCase["resource"]>): FuzzCase {
  const rng = Rng.forSession(seed, index);
  const resource = rng.pick(resources);
  const agent = rng.pick(AGENTS);
  const scenario = rng.weighted({ startup: 14, cut: 8, ...SESSION_SCENARIOS });
  if (scenario === "startup") {
    return { seed, index, scenario, resource, agent, steps: startupSteps(rng, agent, resource), end: rng.pick(["probe", "none"] as const) };
  }
  // Half wait for people (an auto-decider answers), half are refused at once (return mode).
  const applicationName = rng.chance(0.5) ? "fuzz airlock-mode=return" : "fuzz";
  const login = { applicationName, ssl: rng.chance(0.2) };
  if (scenario === "cut") {
    const steps = rng.chance(0.6) ? sessionSteps(rng, rng.pick(Object.keys(SESSION_SCENARIOS) as SessionScenario[])) : [];
    return { seed, index, scenario, resource, agent, login, steps: [...steps, cutStep(rng)], end: "none" };
  }
  const steps = sessionSteps(rng, scenario);
  const end = rng.weighted({ probe: 7, terminate: 1.5, disconnect: 1.5 });
  if (end === "disconnect") return { seed, index, scenario, resource, agent, login, steps: [...steps, { kind: "disconnect" }], end: "none" };
  return { seed, index, scenario, resource, agent, login, steps, end };
}
