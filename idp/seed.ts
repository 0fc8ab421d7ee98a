/**
 * The people and agents of the development identity provider (DESIGN.md, Contracts). Tests,
 * the start banner and the sign-in hint all read this one list.
 */
export interface SeedPerson {
  email: string;
  name: string;
  groups: string[];
}

export interface SeedAgent {
  id: string;
  groups: string[];
}

export const DEV_PASSWORD = "airlock-dev";

export const SEED_PEOPLE: readonly SeedPerson[] = [
  { email: "alice@example.com", name: "Alice Approver", groups: ["db-approvers", "engineering"] },
  { email: "bob@example.com", name: "Bob Approver", groups: ["db-approvers"] },
  { email: "carol@example.com", name: "Carol Engineer", groups: ["engineering"] },
  { email: "admin@example.com", name: "Airlock Admin", groups: ["airlock-admins"] },
];

export const SEED_AGENTS: readonly SeedAgent[] = [
  { id: "reporting-agent", groups: ["agents", "analytics"] },
  { id: "ops-agent", groups: ["agents", "ops"] },
];

/** The dashboard's own OAuth client at the development IdP. */
export const DASHBOARD_CLIENT_ID = "airlock-dashboard";

export function findSeedPerson(email: string): SeedPerson | undefined {
  const wanted = email.trim().toLowerCase();
  return SEED_PEOPLE.find((p) => p.email === wanted);
}

export function findSeedAgent(id: string): SeedAgent | undefined {
  return SEED_AGENTS.find((a) => a.id === id);
}
