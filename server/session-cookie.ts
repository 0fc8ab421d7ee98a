import type { IncomingMessage } from "node:http";
import { getToken } from "@auth/core/jwt";
import { readGroupsClaim } from "../lib/identity/roles";

export interface CookiePerson {
  email: string;
  groups: string[];
  /** When the session ends (epoch ms), unless the browser is given a fresh cookie before then. */
  expiresAt: number;
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
    if (!token?.email || typeof token.exp !== "number") return undefined;
    return { email: token.email, groups: readGroupsClaim(token.groups), expiresAt: token.exp * 1000 };
  } catch {
    return undefined;
  }
}
