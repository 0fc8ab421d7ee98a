import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import path from "node:path";
import { startProxyHarness, type ProxyHarness } from "../support/proxy-harness";
import { makeTempDir } from "../support/temp-dir";
import { psql } from "./setup";

const certs = makeTempDir("tls");
let harness: ProxyHarness;

before(async () => {
  const key = path.join(certs.path, "key.pem");
  const cert = path.join(certs.path, "cert.pem");
  execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-days", "1", "-keyout", key, "-out", cert], { stdio: "ignore" });
  harness = await startProxyHarness({ demo: "pglite://demo" }, { env: { AIRLOCK_PROXY_TLS_CERT: cert, AIRLOCK_PROXY_TLS_KEY: key } });
});
after(async () => {
  await harness.close();
  certs.remove();
});

test("with a certificate configured, agents connect over TLS", async () => {
  const url = await harness.url("demo");
  // sslmode=require fails unless the proxy answers the SSLRequest with TLS.
  const result = await psql(`${url}?sslmode=require`, ["-c", "select count(*) from customers"]);
  assert.equal(result.status, 0, result.stderr);
  assert.equal(result.stdout, "1000");
  const plain = await psql(`${url}?sslmode=disable`, ["-c", "select 1"]);
  assert.equal(plain.status, 0, "plain text still works on loopback");
});
