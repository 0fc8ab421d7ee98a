import type { Session } from "next-auth";
import { notFound, redirect } from "next/navigation";
import { cache } from "react";
import { auth } from "@/auth";
import { whyNot, type Permission, type Refusal } from "@/lib/identity/permissions";
import { getRuntime, type Runtime } from "@/lib/runtime";

export type Person = Session["user"];

/** Who is asking, with the services their data comes from: handed out only after the check. */
export interface Asker {
  person: Person;
  rt: Runtime;
}

/** Read once per request: the layout and the page rendering beside it share the answer. */
const sessionPerson = cache(async (): Promise<Person | undefined> => {
  const session = await auth();
  return session?.user?.email ? session.user : undefined;
});

async function ask(permission: Permission): Promise<Asker | Refusal> {
  const person = await sessionPerson();
  const why = whyNot(person, permission);
  return why ?? { person: person!, rt: getRuntime() };
}

/**
 * Every page and layout starts here, before it loads anything. Next.js renders a layout and its
 * page in parallel (and an RSC request may render the page alone), so the console layout's check
 * does not cover its pages: each must make its own. Signed out: a redirect to sign in; a role
 * that may not see the page: not found. Either way no query has run.
 */
export async function requirePerson(permission: Permission = "console.read"): Promise<Asker> {
  const asked = await ask(permission);
  if (asked === "signed-out") redirect("/signin");
  if (asked === "forbidden") notFound();
  return asked;
}

export type Refused = { ok: false; error: string };

/** Server actions: the person and services, or a typed refusal the form shows. */
export async function personForAction(permission: Permission): Promise<Asker | Refused> {
  const asked = await ask(permission);
  if (asked === "signed-out") return { ok: false, error: "your session has ended: sign in again" };
  if (asked === "forbidden") return { ok: false, error: "your role does not allow this" };
  return asked;
}

/** Route handlers for people (cookie sessions): the person and services, or a 401/403 JSON answer. */
export async function personForRoute(permission: Permission): Promise<Asker | Response> {
  const asked = await ask(permission);
  if (asked === "signed-out") return refusal(401, "unauthenticated", "sign in first");
  if (asked === "forbidden") return refusal(403, "forbidden", "your role does not allow this");
  return asked;
}

function refusal(status: number, code: string, message: string): Response {
  return Response.json({ error: { code, message } }, { status, headers: { "Cache-Control": "no-store" } });
}
