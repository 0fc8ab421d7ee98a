export type TokenProblem = "malformed" | "signature" | "expired" | "not-yet-valid" | "issuer" | "audience" | "client" | "claims" | "not-allowed" | "unavailable";

/** A refused token, with a reason that is safe to show the agent (no token material). */
export class TokenError extends Error {
  constructor(
    readonly problem: TokenProblem,
    message: string,
  ) {
    super(message);
    this.name = "TokenError";
  }
}
