/** A person signed in to a running Airlock over plain HTTP, through the development IdP's own form. */
const DEV_PASSWORD = "airlock-dev";
const MAX_HOPS = 20;

/** Cookies by name: enough for one host whose paths need not be told apart in a test. */
class CookieJar {
  readonly #cookies = new Map<string, string>();

  take(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(";");
      const eq = pair.indexOf("=");
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attributes.some((a) => /^\s*max-age=0$/i.test(a)) || value === "";
      if (expired) this.#cookies.delete(name);
      else this.#cookies.set(name, value);
    }
  }

  header(): string {
    return [...this.#cookies].map(([name, value]) => `${name}=${value}`).join("; ");
  }
}

/**
 * Signs `email` in as a browser would (next-auth's sign-in POST, the IdP's login form, the
 * callback) and returns the Cookie header of the resulting dashboard session.
 */
export async function signInOverHttp(baseUrl: string, email: string): Promise<string> {
  const jar = new CookieJar();
  const send = async (url: string, init: RequestInit = {}) => {
    const res = await fetch(new URL(url, baseUrl), { ...init, redirect: "manual", headers: { ...init.headers, cookie: jar.header() } });
    jar.take(res);
    return res;
  };
  const csrf = await send("/api/auth/csrf");
  const { csrfToken } = (await csrf.json()) as { csrfToken: string };
  let res = await send("/api/auth/signin/sso", { method: "POST", body: new URLSearchParams({ csrfToken, callbackUrl: `${baseUrl}/` }) });
  for (let hop = 0; hop < MAX_HOPS; hop++) {
    const next = res.headers.get("location");
    if (res.status === 200 && new URL(res.url || baseUrl).pathname.includes("/interaction/")) {
      await res.body?.cancel();
      res = await send(`${res.url}/login`, { method: "POST", body: new URLSearchParams({ email, password: DEV_PASSWORD }) });
      continue;
    }
    await res.body?.cancel();
    if (!next) break;
    const url = new URL(next, res.url || baseUrl).href;
    if (new URL(url).pathname === "/" && /session-token/.test(jar.header())) return jar.header();
    res = await send(url);
  }
  throw new Error(`signing ${email} in over HTTP did not end at the dashboard with a session (last: ${res.status} ${res.url})`);
}
