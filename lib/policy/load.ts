import fs from "node:fs";
import { parsePolicy, PolicyError, type Policy } from "./policy-file";

/** Reads and validates the policy file; a missing or broken file is a PolicyError. */
export function loadPolicyFile(file: string, env: Record<string, string | undefined> = process.env): Policy {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    throw new PolicyError([{ path: "", message: `cannot read the policy file: ${(err as NodeJS.ErrnoException).code ?? err}` }], file);
  }
  return parsePolicy(text, env, file);
}
