import { redirect } from "next/navigation";
import { auth } from "@/auth";

/** The signed-in person, or a redirect to sign in: every console page starts here. */
export async function requirePerson() {
  const session = await auth();
  if (!session?.user?.email) redirect("/signin");
  return session.user;
}
