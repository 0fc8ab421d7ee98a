import type { ReactNode } from "react";
import { AppHeader } from "@/components/layout/app-header";
import { whyNot } from "@/lib/identity/permissions";
import { requirePerson } from "../current-person";
import { signOutAction } from "./actions";

export default async function ConsoleLayout({ children }: { children: ReactNode }) {
  const { person } = await requirePerson();
  return (
    <>
      <a className="skip-link" href="#content">Skip to content</a>
      <AppHeader email={person.email} role={person.role} signOut={signOutAction} showStatus={!whyNot(person, "ops.status")} />
      <main className="page" id="content">{children}</main>
    </>
  );
}
