import { randomUUID } from "node:crypto";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import type { ActivityRecorder } from "../lib/activity/recorder";
import { decide, type Decision } from "../lib/decision/decide";
import { refusals } from "../lib/decision/refusals";
import { withinRate } from "../lib/decision/statement-rates";
import { logger } from "../lib/log";
import { filtersRows } from "../lib/policy/filters-rows";
import { tracing } from "../lib/ops/tracing";
import { AgentMessages, agentMessageLimit } from "./agent-messages";
import { authorizeAgent } from "./authorize";
import type { CancelKeys } from "./cancel-keys";
import type { ConnectionSlots } from "./connection-slots";
import type { ProxySessions } from "./drain";
import { Auth, TxStatus } from "./protocol/message-codes";
import { StreamClosedError } from "./protocol/socket-reader";
import { writeAuthentication, writeBackendKeyData, writeNoticeResponse, writeParameterStatus, writeReadyForQuery } from "./protocol/writer";
import type { ProxyDeps } from "./proxy-deps";
import { GrantWatch } from "./grant-watch";
import { SessionHolds } from "./holds";
import { Relay } from "./relay";
import { IdleWatch, ReadyForQueryCounter, StartupDeadline } from "./session-timeouts";
import { forwardedParams } from "./upstream/upstream";
import { startupPath } from "./session-path";
import { catalogSearchPath } from "../lib/sql/relation-names";
import { UpstreamError } from "./upstream/postgres";
import { PgWireError, SqlState, type SqlStateCode } from "./wire-error";

const log = logger("proxy");

/** One agent connection, from the first byte to the last. */
export async function serveConnection(socket: Socket, deps: ProxyDeps, keys: CancelKeys, slots: ConnectionSlots, sessions: ProxySessions): Promise<void> {
  let client: Duplex = socket;
  // Counted from the first byte; given back however the connection ends.
  const slot = slots.open();
  let messages: AgentMessages | undefined;
  const deadline = new StartupDeadline(deps.limits.startupTimeoutMs);
  try {
    // Startup: TLS if asked and configured, or a cancel request for another session.
    const startup = await deadline.within(deps.negotiateStartup(socket));
    if (startup.kind === "cancel") {
      await keys.cancel(startup.processId, startup.secretKey);
      socket.destroy();
      return;
    }
    client = startup.socket;
    if (startup.negotiate) client.write(startup.negotiate);
    // Shutting down, or over the cap: refused now, where the agent reads an answer (as PostgreSQL does).
    if (sessions.draining) throw sessions.refusal();
    slot.admit();

    // Authenticate: the token is the password; the database names a resource of the policy.
    const { identity, resource } = await deadline.within(authorizeAgent(client, startup.reader, startup.params, deps.verify, deps.policy().resources));
    deadline.clear();
    // The agent's share: its sessions are capped, and its unfinished messages share one budget.
    const budget = slot.claimAgent(identity.agentId);
    messages = new AgentMessages(agentMessageLimit(deps.limits.maxStatementBytes, deps.limits.maxBufferedBytesPerAgent), budget);

    // Its settings (startup parameters, `options`): what cannot be passed on is refused now, in words.
    forwardedParams(startup.params);

    // Connect upstream with the resource's own credentials, which the agent never sees.
    // Its catalog too: whether a function only reads is the target's to say.
    const [connected, catalog] = await Promise.allSettled([deps.upstreams.connect(resource, startup.params), deps.classifiers.forResource(resource)]);
    if (connected.status === "rejected" || catalog.status === "rejected") {
      if (connected.status === "fulfilled") connected.value.close(true);
      if (connected.status === "rejected") throwIfAgentsOwn(connected.reason);
      log.error("resource unreachable", { resource: resource.name, err: connected.status === "rejected" ? connected.reason : (catalog as PromiseRejectedResult).reason });
      throw PgWireError.fatal(SqlState.ConnectionFailure, `airlock: resource "${resource.name}" is unreachable`);
    }
    const upstream = connected.value;
    const classifier = catalog.value;

    // Ready: the server's parameters, the proxy's own cancel key, then the first ReadyForQuery.
    const sessionId = randomUUID();
    const session = { sessionId, agentId: identity.agentId, groups: identity.groups, resource: resource.name, claims: identity.claims };
    const holds = new SessionHolds({
      approvals: deps.approvals,
      grants: deps.grants,
      session,
      publicUrl: deps.publicUrl(),
      returnMode: (startup.params.get("application_name") ?? "").includes("airlock-mode=return"),
      upstreamUser: classifier.catalog.namespaces?.user,
      notify: (bytes) => client.write(bytes),
      preview: deps.previews && ((request, options) => deps.previews!.start(request, options)),
      undoCaptured: deps.undos && ((request, capture, keepMs) => deps.undos!.save(request, capture, keepMs)),
    });
    // A cancel while a statement is held cancels its request; otherwise it reaches the server.
    const key = keys.issue(async () => (holds.waiting ? holds.cancel("cancelled by the agent") : upstream.cancel()));
    client.write(
      Buffer.concat([
        writeAuthentication(Auth.Ok),
        ...[...upstream.parameters].map(([name, value]) => writeParameterStatus(name, value)),
        writeBackendKeyData(key.processId, key.secretKey),
        writeReadyForQuery(TxStatus.Idle),
      ]),
    );

    // Record the session: it is live from here on.
    const clientAddress = socket.remoteAddress;
    const live = deps.live.open({ id: sessionId, agentId: identity.agentId, groups: identity.groups, resource: resource.name, clientAddress, startedAt: new Date() });
    deps.recorder.sessionStarted({
      id: sessionId,
      agentId: identity.agentId,
      groups: [...identity.groups],
      resource: resource.name,
      clientAddress,
      applicationName: startup.params.get("application_name"),
      startedAt: live.startedAt,
    });

    // Grants this session works under: when one ends, the agent hears it at once.
    const grantWatch = new GrantWatch({
      grants: deps.grants,
      bus: deps.bus,
      notify: (message) => relay.notice(writeNoticeResponse({ severity: "NOTICE", code: "01000", message })),
    });

    // Relay until either side ends; each statement passes the decision point and is recorded.
    startup.reader.detach();
    const timer = deps.statementTimer?.(resource.name);
    const relay = new Relay(client, upstream, {
      clientMessages: messages,
      tokenExpiresAt: identity.expiresAt,
      classify: (text, prepared, path) => classifier.classify(text, prepared, path),
      searchPath: startupPath(startup.params, catalogSearchPath(classifier.catalog), upstream.shared === true),
      decide: (statement) => withinRate(unlessUnrecordable(decide(deps.policy(), session, statement, deps.grants, classifier.catalog), deps.recorder), deps.rates, session),
      rowFilter(statement) {
        // A policy without row filters rewrites nothing: the Parse is not decided twice (its Bind is decided as ever).
        const policy = deps.policy();
        if (!filtersRows(policy)) return undefined;
        const decision = decide(policy, session, statement, deps.grants, classifier.catalog);
        return decision.action === "refuse" ? undefined : decision.rewritten;
      },
      hold: (statement, decision) => holds.hold(statement, decision),
      masking: { catalog: classifier.catalog, masker: (mask) => deps.maskers.for(mask) },
      schemaChanged: () => deps.classifiers.invalidate(resource),
      onStatement(statement, durationMs) {
        live.statementCount++;
        const stored = deps.recorder.statement({
          sessionId,
          text: statement.text,
          params: statement.params,
          protocol: statement.protocol,
          outcome: statement.outcome,
          errorCode: statement.errorCode,
          errorMessage: statement.errorMessage,
          rows: statement.rows,
          durationMs,
          startedAt: new Date(Date.now() - durationMs),
          requestId: statement.requestId,
          grantId: statement.grantId,
          masked: statement.masked && statement.masked.values > 0 ? { columns: statement.masked.columns, values: statement.masked.values } : undefined,
          agentId: identity.agentId,
          resource: resource.name,
          verdict: statement.verdict,
          limit: statement.limit,
        });
        live.lastStatement = { text: stored.text, bytes: stored.bytes, sha256: stored.sha256, at: new Date() };
        // Its times (`/metrics`): the database's from sending it on, Airlock's own before that, less any hold.
        const sent = statement.upstreamStart ?? -1;
        if (timer && sent >= 0 && statement.outcome !== "refused") timer.observe(statement.startedAt + durationMs - sent, sent - statement.startedAt - (statement.heldMs ?? 0));
        // Its spans, when traces are on: made now that it ended, from the times the relay kept.
        if (statement.trace) tracing?.statement(statement, session);
        if (statement.grantId && statement.outcome === "ok") {
          deps.grants.recordUse(statement.grantId);
          grantWatch.used(statement.grantId);
        }
      },
    }, startup.reader.buffer.drain());
    // A graceful shutdown ends it once idle (or at the drain limit).
    const forget = sessions.add(relay);
    // Idle: nothing sent, nothing running or held (after the relay, so it sees the server's bytes second).
    const clientMessages = messages;
    const idle = deps.limits.idleSessionTimeoutMs > 0 ? new IdleWatch({ timeoutMs: deps.limits.idleSessionTimeoutMs, client, syncPoints: () => clientMessages.syncPoints, ready: new ReadyForQueryCounter() }) : undefined;
    if (idle) upstream.onData((chunk) => idle.serverData(chunk));
    const ended = await relay.done;
    forget();
    idle?.close();
    const reason = idle?.ended?.message ?? ended;
    // A held statement ends with its session, and its request says why: approving it later must
    // not look possible, and "the agent disconnected" would blame the agent for a lost database.
    holds.cancel(relay.agentLeft ? "the agent disconnected" : `the session ended: ${reason.replace(/^airlock: /, "")}`);
    grantWatch.close();

    // Record the end.
    keys.release(key.processId);
    deps.live.close(sessionId);
    deps.recorder.sessionEnded(sessionId, reason, { agentId: identity.agentId, resource: resource.name });
  } catch (err) {
    refuse(client, err);
  } finally {
    deadline.clear();
    messages?.release();
    slot.release();
  }
}

/** Settings the server rejected (a bad TimeZone, an unknown parameter) are the agent's to hear, as PostgreSQL says them. */
const AGENTS_OWN_STARTUP_ERRORS = new Set(["22023", "42704", "42501", "22P02", "0A000"]);

function throwIfAgentsOwn(err: unknown): void {
  if (err instanceof UpstreamError && err.code && AGENTS_OWN_STARTUP_ERRORS.has(err.code) && err.serverMessage) {
    throw PgWireError.fatal(err.code as SqlStateCode, err.serverMessage);
  }
}

function refuse(client: Duplex, err: unknown): void {
  if (err instanceof StreamClosedError) {
    client.destroy();
    return;
  }
  const wire = err instanceof PgWireError ? err : PgWireError.fatal(SqlState.InternalError, "airlock: internal error");
  if (!(err instanceof PgWireError)) log.error("connection failed", { err });
  if (client.writable) client.end(wire.toMessage());
  else client.destroy();
  // A peer that never reads must not keep the socket open.
  setTimeout(() => client.destroy(), 1000).unref();
}

/**
 * Fail closed on the audit trail: while the store cannot take what is recorded and the backlog is
 * full, nothing runs that it could not keep. Refused, not held: the agent can retry when it is back.
 */
function unlessUnrecordable(decision: Decision, recorder: Pick<ActivityRecorder, "backlogged">): Decision {
  if (decision.action === "refuse" || !recorder.backlogged) return decision;
  return { action: "refuse", ...refusals.auditUnwritable(), verdict: decision.verdict };
}
