import type { IncomingMessage } from "node:http";
import { getToken } from "@auth/core/jwt";
import { readGroupsClaim } from "../lib/identity/roles";

export interface CookiePerson {
  email: string;
  groups: string[];
}

/**
 * Reads the dashboard session from a raw Node request's cookies, for endpoints served outside
 * Next.js (the live websocket). Same secret and cookie as next-auth; expired sessions fail.
 */
export async function readSessionCookie(req: IncomingMessage, secret: string, secure: boolean): Promise<CookiePerson | undefined> {
  const headers = new Headers();
  if (req.headers.cookie) headers.set("cookie", req.headers.cookie);
  try {
    const token = await getToken({ req: { headers }, secret, secureCookie: secure });
    if (!token?.email) return undefined;
    return { email: token.email, groups: readGroupsClaim(token.groups) };
  } catch {
    return undefined;
  }
}
