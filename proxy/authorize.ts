import type { Duplex } from "node:stream";
import { TokenError, type AgentIdentity, type AgentTokenVerifier } from "../lib/identity/agent-token";
import type { Resource } from "../lib/policy/policy-file";
import { Auth, Frontend } from "./protocol/message-codes";
import { BodyReader } from "./protocol/reader";
import type { SocketReader } from "./protocol/socket-reader";
import { writeAuthentication } from "./protocol/writer";
import { PgWireError, SqlState } from "./wire-error";

export interface Authorized {
  identity: AgentIdentity;
  resource: Resource;
}

/**
 * Login: the agent's OIDC access token is its password, asked in cleartext (it is a bearer token,
 * which a hash exchange could not verify; use TLS). It must verify, name the user as its
 * subject, and the database must be a resource the policy defines.
 */
export async function authorizeAgent(
  socket: Duplex,
  reader: SocketReader,
  params: ReadonlyMap<string, string>,
  verify: AgentTokenVerifier,
  resources: ReadonlyMap<string, Resource>,
): Promise<Authorized> {
  const user = params.get("user");
  if (!user) throw PgWireError.fatal(SqlState.InvalidAuthorization, "airlock: no user name given; use the agent id");
  const database = params.get("database") || user;

  socket.write(writeAuthentication(Auth.CleartextPassword));
  const message = await reader.message();
  if (message.type !== Frontend.Password) throw PgWireError.fatal(SqlState.ProtocolViolation, "expected a password message");
  const token = new BodyReader(message.body).readCString();
  if (token === "") throw PgWireError.fatal(SqlState.InvalidPassword, `airlock: password authentication failed for user "${user}": no token given`);

  let identity: AgentIdentity;
  try {
    identity = await verify(token);
  } catch (err) {
    const reason = err instanceof TokenError ? err.message : "token could not be verified";
    throw PgWireError.fatal(SqlState.InvalidPassword, `airlock: password authentication failed for user "${user}": ${reason}`);
  }
  if (identity.agentId !== user) {
    throw PgWireError.fatal(SqlState.InvalidPassword, `airlock: password authentication failed for user "${user}": the token belongs to another agent`);
  }
  const resource = resources.get(database);
  if (!resource) throw PgWireError.fatal(SqlState.InvalidCatalogName, `airlock: no resource named "${database}"`);
  return { identity, resource };
}
