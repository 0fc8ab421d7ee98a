import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from "node:crypto";

/**
 * The client side of SCRAM-SHA-256 (RFC 5802, RFC 7677) as PostgreSQL speaks it: no channel
 * binding ("n,,"), an empty user name (the server uses the startup user).
 * https://www.postgresql.org/docs/current/sasl-authentication.html
 */
export class ScramClient {
  readonly mechanism = "SCRAM-SHA-256";
  readonly #password: string;
  readonly #clientNonce: string;
  #clientFirstBare = "";
  #expectedServerSignature: Buffer | undefined;

  constructor(password: string, clientNonce = randomBytes(18).toString("base64")) {
    this.#password = password.normalize("NFKC");
    this.#clientNonce = clientNonce;
  }

  clientFirstMessage(): string {
    this.#clientFirstBare = `n=*,r=${this.#clientNonce}`;
    return `n,,${this.#clientFirstBare}`;
  }

  /** Answers the server-first message with the client-final message (the proof). */
  clientFinalMessage(serverFirst: string): string {
    const attrs = parseAttributes(serverFirst);
    const nonce = attrs.get("r");
    const salt = attrs.get("s");
    const iterations = Number(attrs.get("i"));
    if (!nonce || !salt || !Number.isInteger(iterations) || iterations < 1) throw new Error("SCRAM: malformed server-first message");
    if (!nonce.startsWith(this.#clientNonce)) throw new Error("SCRAM: server nonce does not extend the client nonce");

    const saltedPassword = salted(this.#password, salt, iterations);
    const clientKey = hmac(saltedPassword, "Client Key");
    const storedKey = createHash("sha256").update(clientKey).digest();
    const clientFinalWithoutProof = `c=biws,r=${nonce}`; // biws = base64("n,,")
    const authMessage = `${this.#clientFirstBare},${serverFirst},${clientFinalWithoutProof}`;
    const clientSignature = hmac(storedKey, authMessage);
    const proof = Buffer.alloc(clientKey.length);
    for (let i = 0; i < proof.length; i++) proof[i] = clientKey[i] ^ clientSignature[i];
    this.#expectedServerSignature = hmac(hmac(saltedPassword, "Server Key"), authMessage);
    return `${clientFinalWithoutProof},p=${proof.toString("base64")}`;
  }

  /** Checks the server's signature: proof that the server, too, knows the password. */
  verifyServerFinal(serverFinal: string): void {
    const attrs = parseAttributes(serverFinal);
    if (attrs.has("e")) throw new Error(`SCRAM: server refused: ${attrs.get("e")}`);
    const signature = Buffer.from(attrs.get("v") ?? "", "base64");
    const expected = this.#expectedServerSignature;
    if (!expected || signature.length !== expected.length || !timingSafeEqual(signature, expected)) {
      throw new Error("SCRAM: server signature does not match");
    }
  }
}

/** Salted passwords by password, salt and iteration count: the few the proxy's upstream roles use. */
const saltedPasswords = new Map<string, Buffer>();
const SALTED_PASSWORDS_KEPT = 64;

/**
 * PBKDF2 with the server's salt (4,096 rounds by default: about 2 ms of blocked event loop per
 * connection, for every session on it). A role's salt stays the same until its password changes,
 * so the result is kept, as pgbouncer keeps its SCRAM keys.
 */
function salted(password: string, salt: string, iterations: number): Buffer {
  const key = `${iterations}:${salt}:${createHash("sha256").update(password).digest("base64")}`;
  let value = saltedPasswords.get(key);
  if (!value) {
    value = pbkdf2Sync(password, Buffer.from(salt, "base64"), iterations, 32, "sha256");
    if (saltedPasswords.size >= SALTED_PASSWORDS_KEPT) saltedPasswords.delete(saltedPasswords.keys().next().value!);
    saltedPasswords.set(key, value);
  }
  return value;
}

function hmac(key: Buffer, data: string): Buffer {
  return createHmac("sha256", key).update(data).digest();
}

function parseAttributes(message: string): Map<string, string> {
  const attrs = new Map<string, string>();
  for (const part of message.split(",")) {
    const eq = part.indexOf("=");
    if (eq > 0) attrs.set(part.slice(0, eq), part.slice(eq + 1));
  }
  return attrs;
}

/** PostgreSQL's md5 password response: "md5" + md5(md5(password + user) + salt). */
export function md5PasswordResponse(user: string, password: string, salt: Buffer): string {
  const inner = createHash("md5").update(password + user).digest("hex");
  return `md5${createHash("md5").update(Buffer.concat([Buffer.from(inner), salt])).digest("hex")}`;
}
