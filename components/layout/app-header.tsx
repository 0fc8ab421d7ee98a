import Link from "next/link";
import type { Role } from "@/lib/identity/roles";
import { RoleBadge } from "../ui/role-badge";
import { NavLinks } from "./nav-links";

export function AppHeader({ email, role, signOut, showStatus = false }: { email: string; role: Role; signOut: () => Promise<void>; showStatus?: boolean }) {
  return (
    <header className="app-header">
      <Link href="/" className="brand">
        Air<span>lock</span>
      </Link>
      <NavLinks also={showStatus ? ["status"] : []} />
      <div className="who" data-testid="current-person">
        <strong>{email}</strong>
        <RoleBadge role={role} />
        <form action={signOut}>
          <button className="button" type="submit">Sign out</button>
        </form>
      </div>
    </header>
  );
}
