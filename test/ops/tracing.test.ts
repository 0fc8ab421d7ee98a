/**
 * Traces (issue 22): a real Airlock with OTEL_EXPORTER_OTLP_ENDPOINT pointing at an OTLP/HTTP
 * receiver started here. An allowed statement (simple and extended protocol), a masked one, a
 * refused one and a held-then-approved one each arrive as a root span with a child per phase, the
 * approval as a decision span; no SQL value, parameter, customer value or token is in any body.
 * Without the variable, `npm run proxy` loads no OpenTelemetry module.
 */
import { spawnSync } from "node:child_process";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { test } from "node:test";
import assert from "node:assert/strict";
import pg from "pg";
import { demoData } from "../../lib/demo/seed-data";
import { startAirlock } from "../support/airlock-server";
import { callServerAction } from "../support/server-actions";
import { agentToken, proxyPort } from "../support/server-agent";
import { startStandaloneProxy } from "../support/standalone-proxy";
import { signInOverHttp } from "../web/http-session";
import { until } from "./support";

type AnyValue = { stringValue?: string; intValue?: string | number; boolValue?: boolean; doubleValue?: number; arrayValue?: { values?: AnyValue[] } };
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes?: Array<{ key: string; value: AnyValue }>;
}
interface OtlpBody {
  resourceSpans: Array<{ resource?: { attributes?: Array<{ key: string; value: AnyValue }> }; scopeSpans: Array<{ spans: OtlpSpan[] }> }>;
}

interface Span extends OtlpSpan {
  attrs: Record<string, unknown>;
  service: unknown;
}

/** A local OTLP/HTTP (JSON) receiver: every POST to /v1/traces, its raw body and headers. */
async function startReceiver() {
  const posts: Array<{ path: string; headers: IncomingHttpHeaders; body: string }> = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      posts.push({ path: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    posts,
    spans(): Span[] {
      return posts.flatMap((p) => {
        const body = JSON.parse(p.body) as OtlpBody;
        return body.resourceSpans.flatMap((rs) => {
          const service = valueOf(rs.resource?.attributes?.find((a) => a.key === "service.name")?.value);
          return rs.scopeSpans.flatMap((ss) => ss.spans.map((s) => ({ ...s, service, attrs: Object.fromEntries((s.attributes ?? []).map((a) => [a.key, valueOf(a.value)])) })));
        });
      });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function valueOf(v: AnyValue | undefined): unknown {
  if (!v) return undefined;
  if (v.arrayValue) return (v.arrayValue.values ?? []).map(valueOf);
  if (v.intValue !== undefined) return Number(v.intValue);
  return v.stringValue ?? v.boolValue ?? v.doubleValue;
}

test("traces: a span per statement with its phases, a span per decision, no values or tokens exported", { timeout: 170_000 }, async () => {
  const receiver = await startReceiver();
  const airlock = await startAirlock({
    env: {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_HEADERS: "x-airlock-test=traces",
      OTEL_SERVICE_NAME: "airlock-under-test",
      OTEL_BSP_SCHEDULE_DELAY: "100",
    },
  });
  let stopped = false;
  try {
    assert.match(airlock.output(), /traces on: OTLP over HTTP/);
    const token = await agentToken(airlock);
    const client = new pg.Client({ host: "127.0.0.1", port: await proxyPort(airlock), user: "reporting-agent", password: token, database: "demo" });
    const notices: string[] = [];
    client.on("notice", (n) => notices.push(n.message ?? ""));
    client.on("error", () => undefined);
    await client.connect();
    const customer = demoData().customers[7];

    // Allowed, simple and extended; masked; refused.
    await client.query("select count(*) from products where name <> 'literal-allowed-7f3a'");
    await client.query("select sku from products where name = $1", ["param-extended-91c2"]);
    const masked = await client.query(`select email, phone from customers where id = ${customer.id}`);
    assert.notEqual(masked.rows[0].email, customer.email);
    await assert.rejects(client.query("select pg_read_file('/etc/literal-refused-55d1')"), { code: "42501" });

    // Held, then approved by alice on the web.
    const held = client.query("update customers set country = 'literal-held-c0de' where id = -1");
    await until(() => notices.some((n) => n.includes("held for approval")), "the hold notice", 20_000);
    const requestId = /request (\S+):/.exec(notices.find((n) => n.includes("held for approval")) ?? "")?.[1];
    assert.ok(requestId, notices.join("\n"));
    const cookie = await signInOverHttp(airlock.url, "alice@example.com");
    await callServerAction(airlock, cookie, "decideRequest", `/requests/${requestId}`, { requestId, decision: "approve:once" });
    assert.equal((await held).rowCount, 0);
    await client.end();

    const roots = () => receiver.spans().filter((s) => s.name === "airlock.statement");
    await until(() => roots().length >= 5 && receiver.spans().some((s) => s.name === "airlock.decision"), "the spans to arrive", 20_000);
    // A clean stop sends whatever is still buffered.
    await airlock.stop();
    stopped = true;

    const spans = receiver.spans();
    assert.ok(receiver.posts.every((p) => p.path === "/v1/traces" && p.headers["x-airlock-test"] === "traces" && /json/.test(String(p.headers["content-type"]))));
    assert.ok(spans.every((s) => s.service === "airlock-under-test"), "OTEL_SERVICE_NAME names the service");
    const childrenOf = (root: Span) => spans.filter((s) => s.parentSpanId === root.spanId && s.traceId === root.traceId).map((s) => s.name).sort();
    const rootWith = (outcome: string, protocol = "simple") => {
      const found = roots().filter((s) => s.attrs["airlock.outcome"] === outcome && s.attrs["airlock.protocol"] === protocol);
      assert.equal(found.length, 1, `one ${outcome} ${protocol} statement: ${JSON.stringify(roots().map((r) => r.attrs))}`);
      const [root] = found;
      assert.equal(root.parentSpanId || undefined, undefined);
      assert.equal(root.attrs["airlock.agent"], "reporting-agent");
      assert.equal(root.attrs["airlock.resource"], "demo");
      return root;
    };

    const allowed = rootWith("allowed");
    // Its rows went through the masker (the rule masks by detection), which found nothing to mask.
    assert.deepEqual(childrenOf(allowed), ["airlock.decide", "airlock.mask", "airlock.parse", "airlock.upstream"]);
    assert.equal(allowed.attrs["airlock.masked.values"], 0);
    assert.equal(allowed.attrs["airlock.rule"], "agents-read");
    assert.equal(allowed.attrs["airlock.decision"], "allow");
    assert.deepEqual(allowed.attrs["airlock.statement.kinds"], ["select"]);
    assert.deepEqual(allowed.attrs["airlock.statement.tables"], ["public.products"]);
    assert.equal(allowed.attrs["db.response.returned_rows"], 1);

    // Extended: judged at Bind (classified at Parse), run at Execute.
    const extended = rootWith("allowed", "extended");
    assert.deepEqual(childrenOf(extended), ["airlock.decide", "airlock.upstream"]);

    const maskedRoot = rootWith("masked");
    assert.deepEqual(childrenOf(maskedRoot), ["airlock.decide", "airlock.mask", "airlock.parse", "airlock.upstream"]);
    assert.ok(Number(maskedRoot.attrs["airlock.masked.values"]) >= 2);
    assert.deepEqual(maskedRoot.attrs["airlock.masked.columns"], ["email", "phone"]);

    const refused = rootWith("refused");
    assert.deepEqual(childrenOf(refused), ["airlock.decide", "airlock.parse"]);
    assert.equal(refused.attrs["airlock.rule"], "never-admin-or-privilege");
    assert.equal(refused.attrs["airlock.decision"], "refuse");
    assert.equal(refused.attrs["db.response.status_code"], "42501");

    const approved = rootWith("approved");
    assert.deepEqual(childrenOf(approved), ["airlock.decide", "airlock.hold", "airlock.parse", "airlock.upstream"]);
    assert.equal(approved.attrs["airlock.request.id"], requestId);
    assert.equal(approved.attrs["airlock.rule"], "agents-write");
    assert.equal(approved.attrs["airlock.decision"], "review");

    const decisions = spans.filter((s) => s.name === "airlock.decision");
    assert.equal(decisions.length, 1, JSON.stringify(decisions.map((d) => d.attrs)));
    assert.deepEqual(
      Object.fromEntries(["airlock.request.id", "airlock.decision.action", "airlock.decision.channel", "airlock.decision.result", "airlock.request.status", "airlock.rule"].map((k) => [k, decisions[0].attrs[k]])),
      { "airlock.request.id": requestId, "airlock.decision.action": "approve", "airlock.decision.channel": "web", "airlock.decision.result": "ok", "airlock.request.status": "approved", "airlock.rule": "agents-write" },
    );

    // Nothing of what ran, what came back or who logged in.
    const bodies = receiver.posts.map((p) => p.body).join("\n");
    for (const secret of ["literal-allowed-7f3a", "param-extended-91c2", "literal-refused-55d1", "literal-held-c0de", "pg_read_file", "select ", "update ", customer.email, customer.phone, token, token.split(".")[2], "alice@example.com"]) {
      assert.ok(!bodies.toLowerCase().includes(secret.toLowerCase()), `${secret} is in an exported span`);
    }
  } finally {
    if (!stopped) await airlock.stop();
    await receiver.close();
  }
});

test("tracing off: npm run proxy and the tracing module load no OpenTelemetry module", { timeout: 90_000 }, async () => {
  // The module itself: off without the variable, on with it (so the check can see a load).
  const script = [
    'import { createRequire } from "node:module";',
    "const cache = createRequire(import.meta.url).cache;",
    'const loaded = () => Object.keys(cache).filter((k) => k.includes("@opentelemetry")).length;',
    'const tracing = await import("./lib/ops/tracing.ts");',
    'await import("./proxy/relay.ts");',
    'const off = await tracing.startTracing({ name: "t" }, {});',
    "const before = loaded();",
    'await tracing.startTracing({ name: "t" }, { OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:9" });',
    "console.log(JSON.stringify({ off: off === undefined, before, after: loaded() }));",
    "await tracing.stopTracing();",
  ].join("\n");
  const env = { ...process.env };
  for (const key of Object.keys(env)) if (key.startsWith("OTEL_")) delete env[key];
  const run = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { encoding: "utf8", env, timeout: 60_000 });
  assert.equal(run.status, 0, run.stderr);
  const seen = JSON.parse(run.stdout.trim().split("\n").at(-1) ?? "{}") as { off: boolean; before: number; after: number };
  assert.deepEqual({ off: seen.off, before: seen.before }, { off: true, before: 0 });
  assert.ok(seen.after > 0, "with the variable set, the SDK is loaded");

  // The compiled standalone proxy, started beside an Airlock without the variable: nothing loaded.
  const airlock = await startAirlock({ env: { AIRLOCK_DRAIN_SECONDS: "1" } });
  try {
    const probe = pathToFileURL(path.resolve("test/ops/tracing-probe.mjs")).href;
    const proxy = await startStandaloneProxy(airlock.dataDir, { OTEL_EXPORTER_OTLP_ENDPOINT: "", OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "", NODE_OPTIONS: `--import ${probe}` });
    assert.doesNotMatch(proxy.output(), /traces on/);
    // The probe reports at exit: the whole run, shutdown included.
    await proxy.stop();
    assert.match(proxy.output(), /opentelemetry-modules=0\b/, proxy.output());
  } finally {
    await airlock.stop();
  }
});
