import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import { TLSSocket, type SecureContext } from "node:tls";
import { MessageBuffer } from "./protocol/message-buffer";
import { StartupCode } from "./protocol/message-codes";
import { readStartupParams } from "./protocol/reader";
import { SocketReader } from "./protocol/socket-reader";
import { writeNegotiateProtocolVersion } from "./protocol/writer";
import { PgWireError, SqlState } from "./wire-error";

/** Before login only the password message may come, and a token is a few kilobytes. */
export const MAX_PRELOGIN_MESSAGE_BYTES = 64 * 1024;

export type StartupOutcome =
  | { kind: "session"; socket: Duplex; reader: SocketReader; params: Map<string, string>; tls: boolean; negotiate?: Buffer }
  | { kind: "cancel"; processId: number; secretKey: number };

/**
 * The start of a connection: answer SSLRequest (TLS when configured) and GSSENCRequest, accept a
 * CancelRequest, read the StartupMessage. https://www.postgresql.org/docs/current/protocol-flow.html#PROTOCOL-FLOW-START-UP
 */
export async function negotiateStartup(socket: Socket, tlsContext: SecureContext | undefined): Promise<StartupOutcome> {
  let stream: Duplex = socket;
  let reader = new SocketReader(socket, new MessageBuffer(MAX_PRELOGIN_MESSAGE_BYTES));
  let tls = false;
  for (;;) {
    const { code, body } = await reader.startup();
    switch (code) {
      case StartupCode.SSLRequest:
      case StartupCode.GSSENCRequest: {
        // Bytes sent after the request but before the answer would bypass encryption (CVE-2021-23214).
        if (reader.buffer.bufferedBytes > 0) throw PgWireError.fatal(SqlState.ProtocolViolation, "data received before encryption was negotiated");
        const offerTls = code === StartupCode.SSLRequest && tlsContext && !tls;
        stream.write(offerTls ? "S" : "N");
        if (offerTls) {
          reader.detach();
          stream = new TLSSocket(socket, { isServer: true, secureContext: tlsContext });
          reader = new SocketReader(stream, new MessageBuffer(MAX_PRELOGIN_MESSAGE_BYTES));
          tls = true;
        }
        continue;
      }
      case StartupCode.CancelRequest:
        if (body.length !== 8) throw PgWireError.fatal(SqlState.ProtocolViolation, "malformed cancel request");
        return { kind: "cancel", processId: body.readInt32BE(0), secretKey: body.readInt32BE(4) };
      default: {
        if (code >> 16 !== 3) throw PgWireError.fatal(SqlState.FeatureNotSupported, `unsupported frontend protocol ${code >> 16}.${code & 0xffff}`);
        const params = readStartupParams(body);
        // A newer 3.x minor version or _pq_ options: say we speak 3.0 and know none of them.
        const options = [...params.keys()].filter((k) => k.startsWith("_pq_."));
        const negotiate = (code & 0xffff) > 0 || options.length > 0 ? writeNegotiateProtocolVersion(0, options) : undefined;
        for (const option of options) params.delete(option);
        return { kind: "session", socket: stream, reader, params, tls, negotiate };
      }
    }
  }
}
