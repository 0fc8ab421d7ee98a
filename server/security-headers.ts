import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { PublicUrl } from "../lib/public-url";

export interface SecurityHeaderOptions {
  pub: PublicUrl;
  /** Origins besides Airlock's own a form may post to: an external IdP's, for sign-in without JavaScript. */
  formTargets: string[];
  /** `next dev`: React's development build evaluates code for its debugging aids, styles arrive inline. */
  dev: boolean;
}

/**
 * Headers for every response of the process, set before any handler runs: the dashboard (pages,
 * route handlers, static assets, next-auth), the development IdP, MCP, Slack. A handler may
 * replace the Content-Security-Policy with a stricter one of its own (the IdP's pages do).
 */
export function securityHeaders(options: SecurityHeaderOptions) {
  const common: Record<string, string> = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    ...(options.pub.secure ? { "Strict-Transport-Security": "max-age=31536000" } : {}),
  };
  return {
    /**
     * For a request Next.js will answer: a fresh nonce in a policy that admits only scripts
     * carrying it (and what they load: 'strict-dynamic'). Next.js reads the nonce from the
     * request's own Content-Security-Policy header and puts it on its inline bootstrap and chunk
     * scripts; whatever the client sent in that header is replaced.
     */
    forNext(req: IncomingMessage, res: ServerResponse): void {
      const csp = dashboardPolicy(options, randomBytes(18).toString("base64"));
      req.headers["content-security-policy"] = csp;
      setAll(res, { ...common, "Content-Security-Policy": csp });
    },
    /** Everything else serves JSON or its own HTML: nothing may load, frame or post anywhere. */
    forOther(res: ServerResponse): void {
      setAll(res, { ...common, "Content-Security-Policy": "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'" });
    },
  };
}

export function dashboardPolicy({ pub, formTargets, dev }: SecurityHeaderOptions, nonce: string): string {
  const ws = `${pub.secure ? "wss" : "ws"}://${pub.host}`;
  return [
    "default-src 'self'",
    `script-src 'self' 'nonce-${nonce}' 'strict-dynamic'${dev ? " 'unsafe-eval'" : ""}`,
    // Development builds inject their CSS as inline style elements; production links files.
    `style-src 'self'${dev ? " 'unsafe-inline'" : ""}`,
    "img-src 'self' data: blob:",
    "font-src 'self'",
    `connect-src 'self' ${ws}`,
    "object-src 'none'",
    "base-uri 'none'",
    ["form-action 'self'", ...formTargets].join(" "),
    "frame-ancestors 'none'",
    ...(pub.secure ? ["upgrade-insecure-requests"] : []),
  ].join("; ");
}

function setAll(res: ServerResponse, headers: Record<string, string>): void {
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
}
