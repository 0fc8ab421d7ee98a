/**
 * Traces (OpenTelemetry), off unless OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)
 * is set. Off, nothing of OpenTelemetry is loaded and a statement costs one check of `tracing`;
 * on, the SDK is loaded with import() and each statement's phases are timed on the statement and
 * turned into spans once it ends (a root span and a child per phase: parse, decide, hold, upstream,
 * mask), so the session loop never waits on the SDK. Each person's decision is a span of its own.
 *
 * What a span may carry: who (agent, resource, session, request, grant ids), what policy saw
 * (kinds, tables, rule, decision, outcome), counts and the SQLSTATE. Never the statement's text,
 * its parameters, result values, error messages (they may quote data), tokens or secrets.
 */
import type { Attributes, Span, Tracer } from "@opentelemetry/api";
import type { BasicTracerProvider } from "@opentelemetry/sdk-trace-base";
import type { PolicyVerdict } from "../policy/evaluate";
import { statementKind, statementOutcome } from "./statement-outcome";

/** The tracer while tracing is on; undefined when off (the one check on the statement path). */
export let tracing: Tracing | undefined;

/** Whether the environment asks for traces: an OTLP endpoint is set and the SDK is not disabled. */
export function tracingWanted(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === "true") return false;
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim());
}

/**
 * Starts tracing if the environment asks for it. The exporter (OTLP over HTTP, JSON) and the batch
 * processor read the standard variables themselves: OTEL_EXPORTER_OTLP_ENDPOINT (`/v1/traces` is
 * appended), OTEL_EXPORTER_OTLP_HEADERS, OTEL_BSP_SCHEDULE_DELAY, OTEL_TRACES_SAMPLER…;
 * OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES override the service's name and attributes.
 */
export async function startTracing(service: { name: string; version?: string }, env: NodeJS.ProcessEnv = process.env): Promise<Tracing | undefined> {
  if (tracing || !tracingWanted(env)) return tracing;
  const [api, sdk, otlp, resources] = await Promise.all([
    import("@opentelemetry/api"),
    import("@opentelemetry/sdk-trace-base"),
    import("@opentelemetry/exporter-trace-otlp-http"),
    import("@opentelemetry/resources"),
  ]);
  const resource = resources
    .defaultResource()
    .merge(resources.resourceFromAttributes({ "service.name": service.name, ...(service.version ? { "service.version": service.version } : {}) }))
    // Last, so OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win, as the SDK documents.
    .merge(resources.detectResources({ detectors: [resources.envDetector] }));
  const provider = new sdk.BasicTracerProvider({ resource, spanProcessors: [new sdk.BatchSpanProcessor(new otlp.OTLPTraceExporter())] });
  // Not registered globally: Next.js would start tracing every request of its own through it.
  tracing = new Tracing(api, provider);
  return tracing;
}

/** Sends what is buffered and stops (graceful shutdown). */
export async function stopTracing(): Promise<void> {
  const active = tracing;
  tracing = undefined;
  await active?.shutdown().catch((err: unknown) => console.error("[tracing] the last spans could not be sent:", err));
}

type Api = typeof import("@opentelemetry/api");

/**
 * Phase times of one statement (performance.now(), ms), made only while tracing is on. -1: the
 * phase did not happen. Plain numbers: the session loop writes them, spans are made at the end.
 */
export class StatementTrace {
  parseStart = -1;
  parseEnd = -1;
  decideStart = -1;
  decideEnd = -1;
  /** The decision carried out: allow, refuse or review. */
  decision: string | undefined;
  holdStart = -1;
  holdEnd = -1;
  maskStart = -1;
  maskEnd = -1;
  /** Time spent masking rows, and how many (the mask span covers first to last row). */
  maskMs = 0;
  maskRows = 0;

  constructor(public start: number) {}

  /** An Execute runs what its Bind judged: the phases of the judging are its own. */
  judgedAt(bind: StatementTrace): void {
    this.start = bind.start;
    this.parseStart = bind.parseStart;
    this.parseEnd = bind.parseEnd;
    this.decideStart = bind.decideStart;
    this.decideEnd = bind.decideEnd;
    this.decision = bind.decision;
    this.holdStart = bind.holdStart;
    this.holdEnd = bind.holdEnd;
  }

  masked(from: number, to: number): void {
    if (this.maskStart < 0) this.maskStart = from;
    this.maskEnd = to;
    this.maskMs += to - from;
    this.maskRows++;
  }
}

/** A statement as it ended: the proxy's PendingStatement has these fields. */
export interface TracedStatement {
  trace?: StatementTrace;
  /** When it went to the server as itself (kept traced or not: the metrics time it too); -1 or absent: it did not. */
  upstreamStart?: number;
  protocol: string;
  outcome: "ok" | "error" | "refused";
  errorCode?: string;
  /** Read to tell denied, expired and cancelled apart; never exported. */
  errorMessage?: string;
  rows: number;
  requestId?: string;
  grantId?: string;
  masked?: { values: number; readonly columns: string[] };
  verdict?: PolicyVerdict;
}

export interface StatementSession {
  sessionId: string;
  agentId: string;
  resource: string;
}

export interface DecisionSpan {
  requestId: string;
  /** approve, deny, expire, cancel. */
  action: string;
  /** Where it came from: web, slack; `system` for an expiry or a cancellation. */
  channel: string;
  end(attributes: Attributes, error?: unknown): void;
}

export class Tracing {
  readonly #tracer: Tracer;

  constructor(
    private readonly api: Api,
    private readonly provider: BasicTracerProvider,
  ) {
    this.#tracer = provider.getTracer("airlock");
  }

  /** One statement, once it ended: a root span with a child per phase it went through. */
  statement(statement: TracedStatement, session: StatementSession, end = performance.now()): void {
    const times = statement.trace;
    if (!times) return;
    const { api } = this;
    const root = this.#tracer.startSpan("airlock.statement", { kind: api.SpanKind.SERVER, startTime: times.start, attributes: statementAttributes(statement, session) });
    // Sampled out (OTEL_TRACES_SAMPLER): its children would be too; none is made.
    if (!root.isRecording()) return;
    if (statement.outcome === "error") root.setStatus({ code: api.SpanStatusCode.ERROR });
    const parent = api.trace.setSpan(api.ROOT_CONTEXT, root);
    const child = (name: string, from: number, to: number, attributes?: Attributes, kind = api.SpanKind.INTERNAL) => {
      if (from >= 0) this.#tracer.startSpan(name, { kind, startTime: from, attributes }, parent).end(to >= 0 ? to : end);
    };
    child("airlock.parse", times.parseStart, times.parseEnd);
    child("airlock.decide", times.decideStart, times.decideEnd, { "airlock.decision": times.decision ?? "" });
    child("airlock.hold", times.holdStart, times.holdEnd, statement.requestId ? { "airlock.request.id": statement.requestId } : undefined);
    child("airlock.upstream", statement.upstreamStart ?? -1, end, { "db.system": "postgresql", "db.response.returned_rows": statement.rows }, api.SpanKind.CLIENT);
    child("airlock.mask", times.maskStart, times.maskEnd, { "airlock.mask.rows": times.maskRows, "airlock.mask.duration_ms": times.maskMs, "airlock.masked.values": statement.masked?.values ?? 0 });
    root.end(end);
  }

  /** A decision on a request (a person's, an expiry, a cancellation), as it happens. */
  decision(requestId: string, action: string, channel: string): DecisionSpan {
    const { api } = this;
    const span: Span = this.#tracer.startSpan("airlock.decision", {
      kind: api.SpanKind.INTERNAL,
      attributes: { "airlock.request.id": requestId, "airlock.decision.action": action, "airlock.decision.channel": channel },
    });
    return {
      requestId,
      action,
      channel,
      end(attributes, error) {
        span.setAttributes(attributes);
        if (error !== undefined) span.setStatus({ code: api.SpanStatusCode.ERROR, message: error instanceof Error ? error.name : "error" });
        span.end();
      },
    };
  }

  shutdown(): Promise<void> {
    return this.provider.shutdown();
  }
}

function statementAttributes(statement: TracedStatement, session: StatementSession): Attributes {
  const { verdict, masked } = statement;
  const values = masked?.values ?? 0;
  const attributes: Attributes = {
    "airlock.agent": session.agentId,
    "airlock.resource": session.resource,
    "airlock.session.id": session.sessionId,
    "airlock.protocol": statement.protocol,
    "airlock.outcome": statementOutcome({ outcome: statement.outcome, requestId: statement.requestId, errorMessage: statement.errorMessage, masked: values > 0 ? { columns: [], values } : undefined }),
    "airlock.statement.kind": statementKind(statement),
    "airlock.statement.kinds": unique(verdict?.statements.flatMap((s) => s.statement.kinds) ?? []),
    "airlock.statement.tables": unique(verdict?.statements.flatMap((s) => [...s.statement.reads, ...s.statement.writes]) ?? []),
    "airlock.decision": statement.trace?.decision ?? "",
    "airlock.policy.action": verdict?.action ?? "",
    "airlock.rule": verdict?.rule?.name ?? "",
    "db.system": "postgresql",
    "db.response.returned_rows": statement.rows,
    "airlock.masked.values": values,
  };
  if (values > 0) attributes["airlock.masked.columns"] = masked?.columns ?? [];
  if (statement.errorCode) attributes["db.response.status_code"] = statement.errorCode;
  if (statement.requestId) attributes["airlock.request.id"] = statement.requestId;
  if (statement.grantId) attributes["airlock.grant.id"] = statement.grantId;
  return attributes;
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}
