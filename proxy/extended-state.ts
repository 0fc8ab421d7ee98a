/**
 * The agent's prepared statements and portals, as the server will see them, so that an Execute
 * is decided against the SQL its portal was really bound to. The unnamed statement and portal
 * are replaced by every Parse/Bind of the same name, exactly as in the server.
 */
export class ExtendedState {
  readonly #statements = new Map<string, string>();
  readonly #portals = new Map<string, { text: string; params: Array<string | null> }>();

  parse(name: string, text: string): void {
    this.#statements.set(name, text);
  }

  /** Binds a portal; undefined when the statement does not exist (the server will say so). */
  bind(portal: string, statement: string, params: Array<Buffer | null>, formats: number[]): void {
    const text = this.#statements.get(statement);
    if (text === undefined) {
      this.#portals.delete(portal);
      return;
    }
    this.#portals.set(portal, { text, params: params.map((value, i) => paramText(value, formatOf(formats, i))) });
  }

  portal(name: string): { text: string; params: Array<string | null> } | undefined {
    return this.#portals.get(name);
  }

  close(kind: "statement" | "portal", name: string): void {
    if (kind === "statement") this.#statements.delete(name);
    else this.#portals.delete(name);
  }

  /** Portals live until the transaction ends; the server drops them at Sync outside one. */
  endOfTransaction(): void {
    this.#portals.clear();
  }
}

// Bind's format codes: none → all text; one → applies to all; else one per parameter.
function formatOf(formats: number[], i: number): number {
  if (formats.length === 0) return 0;
  return formats.length === 1 ? formats[0] : (formats[i] ?? 0);
}

function paramText(value: Buffer | null, format: number): string | null {
  if (value === null) return null;
  return format === 1 ? `\\x${value.toString("hex")}` : value.toString("utf8");
}
