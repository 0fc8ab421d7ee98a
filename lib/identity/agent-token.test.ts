import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { SignJWT, generateKeyPair, importJWK, type JWK } from "jose";
import { startTestIdp, type TestIdp } from "../../test/support/dev-idp";
import { createAgentTokenVerifier, TokenError, type AgentTokenVerifier, type TokenProblem } from "./agent-token";

describe("agent tokens from the development IdP", () => {
  let idp: TestIdp;
  let verify: AgentTokenVerifier;

  before(async () => {
    idp = await startTestIdp();
    verify = createAgentTokenVerifier({ issuer: idp.issuer, audience: idp.audience });
  });
  after(() => idp.close());

  /** A token signed with the IdP's own key, so only the claims under test are wrong. */
  async function signed(claims: Record<string, unknown>, options: { exp?: number; aud?: string; iss?: string } = {}) {
    const jwk = idp.secrets.signingKey as JWK;
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT(claims)
      .setProtectedHeader({ alg: "RS256", kid: jwk.kid, typ: "at+jwt" })
      .setSubject("reporting-agent")
      .setIssuer(options.iss ?? idp.issuer)
      .setAudience(options.aud ?? idp.audience)
      .setIssuedAt(now - 60)
      .setExpirationTime(options.exp ?? now + 600)
      .sign(await importJWK(jwk, "RS256"));
  }

  async function rejects(token: string, problem: TokenProblem) {
    await assert.rejects(verify(token), (err: unknown) => {
      assert.ok(err instanceof TokenError, `expected TokenError, got ${String(err)}`);
      assert.equal(err.problem, problem, err.message);
      if (token.length > 20) assert.ok(!err.message.includes(token.slice(0, 20)), "the message must not echo the token");
      return true;
    });
  }

  test("a fresh token carries the agent's id and groups", async () => {
    const identity = await verify(await idp.token("reporting-agent"));
    assert.equal(identity.agentId, "reporting-agent");
    assert.deepEqual(identity.groups, ["agents", "analytics"]);
    assert.ok(identity.expiresAt > Date.now() / 1000 + 14 * 60, "lives about 15 minutes");
    assert.ok(identity.expiresAt <= Date.now() / 1000 + 15 * 60 + 5);
  });

  test("each agent gets its own subject and groups", async () => {
    const identity = await verify(await idp.token("ops-agent"));
    assert.equal(identity.agentId, "ops-agent");
    assert.deepEqual(identity.groups, ["agents", "ops"]);
  });

  test("a tampered payload fails the signature check", async () => {
    const [header, payload, signature] = (await idp.token("reporting-agent")).split(".");
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString());
    claims.groups = ["airlock-admins"];
    await rejects([header, Buffer.from(JSON.stringify(claims)).toString("base64url"), signature].join("."), "signature");
  });

  test("an expired token is refused", async () => {
    await rejects(await signed({ groups: ["agents"] }, { exp: Math.floor(Date.now() / 1000) - 120 }), "expired");
  });

  test("a token for another audience is refused", async () => {
    await rejects(await signed({ groups: ["agents"] }, { aud: "some-other-api" }), "audience");
  });

  test("a token from another issuer is refused", async () => {
    await rejects(await signed({ groups: ["agents"] }, { iss: "https://evil.example.com" }), "issuer");
  });

  test("an unsigned (alg: none) token is refused", async () => {
    const enc = (v: object) => Buffer.from(JSON.stringify(v)).toString("base64url");
    const now = Math.floor(Date.now() / 1000);
    const token = `${enc({ alg: "none", typ: "JWT" })}.${enc({ sub: "reporting-agent", iss: idp.issuer, aud: idp.audience, exp: now + 600 })}.`;
    await rejects(token, "signature");
  });

  test("a token signed by a key the issuer does not publish is refused", async () => {
    const { privateKey } = await generateKeyPair("RS256");
    const token = await new SignJWT({ groups: ["agents"] })
      .setProtectedHeader({ alg: "RS256", kid: (idp.secrets.signingKey as JWK).kid })
      .setSubject("reporting-agent")
      .setIssuer(idp.issuer)
      .setAudience(idp.audience)
      .setExpirationTime("10m")
      .sign(privateKey);
    await rejects(token, "signature");
  });

  test("garbage is refused as malformed", async () => {
    await rejects("not-a-jwt", "malformed");
    await rejects("", "malformed");
  });
});

test("an unreachable issuer is reported as unavailable, not as a bad token", async () => {
  const verify = createAgentTokenVerifier({ issuer: "http://127.0.0.1:9/oidc", audience: "airlock" });
  const enc = (v: object) => Buffer.from(JSON.stringify(v)).toString("base64url");
  await assert.rejects(verify(`${enc({ alg: "RS256", kid: "x" })}.${enc({ sub: "a" })}.c2ln`), (err: unknown) => {
    assert.ok(err instanceof TokenError);
    assert.equal(err.problem, "unavailable");
    return true;
  });
});

describe("agents are the agent clients' tokens, not any token for the audience", () => {
  let idp: TestIdp;
  before(async () => {
    idp = await startTestIdp();
  });
  after(() => idp.close());

  const agentsOnly = () => createAgentTokenVerifier({ issuer: idp.issuer, audience: idp.audience, clientIds: ["reporting-agent", "ops-agent"] });

  /** What a person's access token for the agents' audience looks like from an IdP that issues one: the dashboard client, the person's subject. */
  async function personToken(claims: Record<string, unknown>) {
    const jwk = idp.secrets.signingKey as JWK;
    return new SignJWT({ groups: ["db-approvers"], ...claims })
      .setProtectedHeader({ alg: "RS256", kid: jwk.kid, typ: "at+jwt" })
      .setSubject("alice@example.com")
      .setIssuer(idp.issuer)
      .setAudience(idp.audience)
      .setExpirationTime("10m")
      .sign(await importJWK(jwk, "RS256"));
  }

  test("the seeded agents' real tokens pass, carrying their client id", async () => {
    const verify = agentsOnly();
    assert.equal((await verify(await idp.token("reporting-agent"))).agentId, "reporting-agent");
    assert.equal((await verify(await idp.token("ops-agent"))).agentId, "ops-agent");
  });

  for (const [name, claims] of [
    ["the dashboard's client_id", { client_id: "airlock-dashboard" }],
    ["the dashboard as azp", { azp: "airlock-dashboard" }],
    ["no client id at all", {}],
    ["a client id that is not a string", { client_id: ["reporting-agent"] }],
  ] as const) {
    test(`a person's token for the audience is refused: ${name}`, async () => {
      await assert.rejects(agentsOnly()(await personToken(claims)), (err: unknown) => err instanceof TokenError && err.problem === "client");
    });
  }

  test("without a list (a separate agent issuer), any client of the issuer is an agent", async () => {
    const verify = createAgentTokenVerifier({ issuer: idp.issuer, audience: idp.audience });
    assert.equal((await verify(await personToken({ client_id: "some-service" }))).agentId, "alice@example.com");
  });

  test("the development IdP gives the agents' audience to agents only: the dashboard asking for it is refused", async () => {
    const callback = `${new URL(idp.issuer).origin}/api/auth/callback/sso`;
    const authorize = (extra: Record<string, string>) =>
      fetch(`${idp.issuer}/auth?${new URLSearchParams({ client_id: "airlock-dashboard", response_type: "code", redirect_uri: callback, scope: "openid", state: "s", nonce: "n", ...extra })}`, { redirect: "manual" });
    const asked = await authorize({ resource: "urn:airlock:agents" });
    const location = new URL(asked.headers.get("location") ?? "", idp.issuer);
    assert.equal(`${location.origin}${location.pathname}`, callback);
    assert.equal(location.searchParams.get("error"), "invalid_target");
    // The same request without it goes on to the sign-in page.
    const plain = await authorize({});
    assert.match(plain.headers.get("location") ?? "", /\/interaction\//);
  });
});
