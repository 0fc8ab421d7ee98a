import { randomBytes, scryptSync, timingSafeEqual } from "node:crypto";
import { DEV_PASSWORD, findSeedPerson, type SeedPerson } from "./seed";

// Seeded people share one development password; its hash is made once per process.
const salt = randomBytes(16);
const expected = scryptSync(DEV_PASSWORD, salt, 32);

/**
 * Checks a sign-in. The hash is computed whether or not the person exists, so the time taken
 * does not tell an attacker which emails are real.
 */
export function verifyPerson(email: string, password: string): SeedPerson | undefined {
  const person = findSeedPerson(email);
  const matches = timingSafeEqual(scryptSync(password, salt, 32), expected);
  return person && matches ? person : undefined;
}
