import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import {
  ConfigError,
  DEFAULT_DRAIN_MS,
  DEFAULT_IDLE_SESSION_TIMEOUT_MS,
  DEFAULT_MAX_BUFFERED_BYTES_PER_AGENT,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_MAX_CONNECTIONS_PER_AGENT,
  DEFAULT_MAX_STATEMENT_BYTES,
  DEFAULT_STARTUP_TIMEOUT_MS,
  DEFAULT_UPSTREAM_CONNECT_TIMEOUT_MS,
  loadConfig,
} from "./config";

test("the proxy's limits default to the named constants", () => {
  assert.deepEqual(loadConfig({}).proxyLimits, {
    startupTimeoutMs: DEFAULT_STARTUP_TIMEOUT_MS,
    upstreamConnectTimeoutMs: DEFAULT_UPSTREAM_CONNECT_TIMEOUT_MS,
    idleSessionTimeoutMs: DEFAULT_IDLE_SESSION_TIMEOUT_MS,
    maxConnectionsPerAgent: DEFAULT_MAX_CONNECTIONS_PER_AGENT,
    maxConnections: DEFAULT_MAX_CONNECTIONS,
    maxStatementBytes: DEFAULT_MAX_STATEMENT_BYTES,
    maxBufferedBytesPerAgent: DEFAULT_MAX_BUFFERED_BYTES_PER_AGENT,
  });
  assert.equal(DEFAULT_STARTUP_TIMEOUT_MS, 15_000);
  assert.equal(DEFAULT_UPSTREAM_CONNECT_TIMEOUT_MS, 10_000);
  assert.equal(DEFAULT_MAX_STATEMENT_BYTES, 4 * 1024 * 1024);
});

test("each limit is read from its setting", () => {
  const limits = loadConfig({
    AIRLOCK_STARTUP_TIMEOUT: "0.5",
    AIRLOCK_UPSTREAM_CONNECT_TIMEOUT: "2s",
    AIRLOCK_IDLE_SESSION_TIMEOUT: "10m",
    AIRLOCK_MAX_CONNECTIONS_PER_AGENT: "3",
    AIRLOCK_MAX_CONNECTIONS: "7",
    AIRLOCK_MAX_STATEMENT_BYTES: "64kB",
    AIRLOCK_MAX_BUFFERED_BYTES_PER_AGENT: "1048576",
  }).proxyLimits;
  assert.deepEqual(limits, {
    startupTimeoutMs: 500,
    upstreamConnectTimeoutMs: 2000,
    idleSessionTimeoutMs: 600_000,
    maxConnectionsPerAgent: 3,
    maxConnections: 7,
    maxStatementBytes: 65_536,
    maxBufferedBytesPerAgent: 1_048_576,
  });
  assert.equal(loadConfig({ AIRLOCK_STARTUP_TIMEOUT: "30s" }).proxyLimits.startupTimeoutMs, 30_000);
  assert.equal(loadConfig({ AIRLOCK_MAX_STATEMENT_BYTES: "2MB" }).proxyLimits.maxStatementBytes, 2 * 1024 * 1024);
});

test("0 turns the idle-session timeout off, and only that one", () => {
  assert.equal(loadConfig({ AIRLOCK_IDLE_SESSION_TIMEOUT: "0" }).proxyLimits.idleSessionTimeoutMs, 0);
  assert.throws(() => loadConfig({ AIRLOCK_STARTUP_TIMEOUT: "0" }), ConfigError);
  assert.throws(() => loadConfig({ AIRLOCK_MAX_CONNECTIONS: "0" }), ConfigError);
});

test("nonsense is refused with the setting's name", () => {
  for (const [name, value] of [
    ["AIRLOCK_STARTUP_TIMEOUT", "soon"],
    ["AIRLOCK_IDLE_SESSION_TIMEOUT", "-1"],
    ["AIRLOCK_MAX_CONNECTIONS_PER_AGENT", "2.5"],
    ["AIRLOCK_MAX_STATEMENT_BYTES", "4 megs"],
    ["AIRLOCK_MAX_BUFFERED_BYTES_PER_AGENT", "0"],
  ]) {
    assert.throws(() => loadConfig({ [name]: value }), (err: unknown) => err instanceof ConfigError && err.message.startsWith(name), `${name}=${value}`);
  }
});

test("operations: drain defaults to 30 s, metrics are off unless a port or a token is set", () => {
  assert.deepEqual(loadConfig({}).operations, { drainMs: DEFAULT_DRAIN_MS, metricsPort: undefined, metricsToken: undefined });
  assert.equal(DEFAULT_DRAIN_MS, 30_000);
  assert.deepEqual(loadConfig({ AIRLOCK_DRAIN_SECONDS: "5", AIRLOCK_METRICS_PORT: "9464", AIRLOCK_METRICS_TOKEN: "t" }).operations, { drainMs: 5_000, metricsPort: 9464, metricsToken: "t" });
  assert.equal(loadConfig({ AIRLOCK_DRAIN_SECONDS: "2m" }).operations.drainMs, 120_000);
  assert.equal(loadConfig({ AIRLOCK_DRAIN_SECONDS: "0" }).operations.drainMs, 0);
  assert.equal(loadConfig({ AIRLOCK_METRICS_PORT: "0" }).operations.metricsPort, 0);
  assert.throws(() => loadConfig({ AIRLOCK_DRAIN_SECONDS: "soon" }), (err) => err instanceof ConfigError && /AIRLOCK_DRAIN_SECONDS/.test(err.message));
  assert.throws(() => loadConfig({ AIRLOCK_METRICS_PORT: "70000" }), (err) => err instanceof ConfigError && /AIRLOCK_METRICS_PORT/.test(err.message));
});

test("SLACK_USER_GROUPS maps approver groups to Slack user groups; a broken pair is refused, naming it", () => {
  assert.deepEqual(loadConfig({}).slack.userGroups, {});
  assert.deepEqual(loadConfig({ SLACK_USER_GROUPS: "db-approvers=S0DBA, sre-leads = S0SRE" }).slack.userGroups, { "db-approvers": "S0DBA", "sre-leads": "S0SRE" });
  for (const value of ["db-approvers", "db-approvers=@dba", "=S0DBA"]) {
    assert.throws(() => loadConfig({ SLACK_USER_GROUPS: value }), (err: unknown) => err instanceof ConfigError && err.message.startsWith(`SLACK_USER_GROUPS: "${value}"`), value);
  }
});

test("SAML is off without SAML_IDP_METADATA; with it, a URL or dev as given, a file resolved, attribute names defaulted", () => {
  assert.equal(loadConfig({}).saml, undefined);
  assert.deepEqual(loadConfig({ SAML_IDP_METADATA: "dev" }).saml, {
    idpMetadata: "dev",
    entityId: undefined,
    signing: undefined,
    groupsAttribute: "groups",
    emailAttribute: "email",
    nameAttribute: "name",
    binding: undefined,
  });
  assert.equal(loadConfig({ SAML_IDP_METADATA: "https://idp.example.com/metadata" }).saml?.idpMetadata, "https://idp.example.com/metadata");
  assert.equal(loadConfig({ SAML_IDP_METADATA: "idp.xml" }).saml?.idpMetadata, path.resolve("idp.xml"));
  const saml = loadConfig({ SAML_IDP_METADATA: "dev", SAML_GROUPS_ATTRIBUTE: "memberOf", SAML_AUTHN_REQUEST_BINDING: "post", SAML_SP_KEY_FILE: "k.pem", SAML_SP_CERT_FILE: "c.pem" }).saml;
  assert.equal(saml?.groupsAttribute, "memberOf");
  assert.equal(saml?.binding, "post");
  assert.deepEqual(saml?.signing, { keyFile: path.resolve("k.pem"), certFile: path.resolve("c.pem") });
});

test("SAML settings that cannot work are refused, naming the setting", () => {
  assert.throws(() => loadConfig({ SAML_IDP_METADATA: "dev", SAML_SP_KEY_FILE: "k.pem" }), (e: unknown) => e instanceof ConfigError && /SAML_SP_KEY_FILE and SAML_SP_CERT_FILE go together/.test(e.message));
  assert.throws(() => loadConfig({ SAML_IDP_METADATA: "dev", SAML_AUTHN_REQUEST_BINDING: "artifact" }), (e: unknown) => e instanceof ConfigError && /SAML_AUTHN_REQUEST_BINDING must be redirect or post/.test(e.message));
});
