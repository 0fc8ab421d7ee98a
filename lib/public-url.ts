/**
 * The address people and agents use to reach Airlock (AIRLOCK_PUBLIC_URL), taken apart once. Every
 * URL Airlock hands out — sign-in, callback, the development IdP's issuer, links in notices — is
 * built from it, never from the Host or X-Forwarded-* headers of a request: those are the
 * client's to choose, and behind a proxy the public address is already known.
 */
export interface PublicUrl {
  /** Scheme, host, port and prefix, without a trailing slash: `https://airlock.example.com/db`. */
  href: string;
  /** `https://airlock.example.com` */
  origin: string;
  /** `airlock.example.com` or `127.0.0.1:3400`, as a Host header would say it. */
  host: string;
  /** The path a reverse proxy serves Airlock under, `""` or `/db`: the proxy strips it. */
  prefix: string;
  /** https: cookies are Secure and the browser is told to keep to https. */
  secure: boolean;
}

/** Where next-auth's routes are, below the public URL. */
export const AUTH_PATH = "/api/auth";
/** Where the development IdP is mounted, below the public URL; its issuer is the public URL plus this. */
export const DEV_IDP_PATH = "/oidc";

/** Returns the parsed URL, or a sentence saying what is wrong with it. */
export function parsePublicUrl(raw: string): PublicUrl | string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return `"${raw}" is not an absolute URL (e.g. https://airlock.example.com)`;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return `"${raw}" must start with http:// or https://`;
  if (url.username || url.password) return `"${raw}" must not carry a user name or password`;
  if (url.search || url.hash) return `"${raw}" must not have a query or fragment`;
  const prefix = url.pathname.replace(/\/+$/, "");
  return { href: `${url.origin}${prefix}`, origin: url.origin, host: url.host, prefix, secure: url.protocol === "https:" };
}

/** `path` (from the root of Airlock, `/api/auth/…`) as the public address of the same resource. */
export function publicHref(pub: PublicUrl, path: string): string {
  return `${pub.href}${path.startsWith("/") ? path : `/${path}`}`;
}
