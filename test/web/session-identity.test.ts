import { test } from "node:test";
import assert from "node:assert/strict";
import { startAirlock } from "../support/airlock-server";
import { signInOverHttp } from "./http-session";

test("a signed-in session carries who the person is at the IdP (issuer and subject), for decisions to compare", async () => {
  const airlock = await startAirlock();
  try {
    const cookie = await signInOverHttp(airlock.url, "alice@example.com");
    const session = (await (await fetch(`${airlock.url}/api/auth/session`, { headers: { cookie } })).json()) as { user: { email: string; identity?: unknown } };
    const health = (await (await fetch(`${airlock.url}/api/health`)).json()) as { issuer: string };
    // The development IdP's subject is the person's email; a real IdP's is usually an opaque id.
    assert.deepEqual(session.user.identity, { issuer: health.issuer, subject: "alice@example.com" });
  } finally {
    await airlock.stop();
  }
});
