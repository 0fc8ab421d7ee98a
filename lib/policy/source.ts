import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { EventBus } from "../events/bus";
import { parsePolicy, PolicyError, type Policy } from "./policy-file";

export interface PolicyStatus {
  file: string;
  /** The policy in force: the last version that loaded. */
  loadedAt: Date;
  /** sha256 of the text in force. */
  hash: string;
  text: string;
  /** The newest edit, if it did not load: the old policy stays in force. */
  error?: { message: string; at: Date };
}

const RELOAD_DEBOUNCE_MS = 100;

/**
 * The policy file, watched: a good edit takes effect at once (next statement); a broken edit is
 * reported and the last good policy keeps working. Starting with a broken file is an error.
 */
export class PolicySource {
  #policy: Policy;
  #status: PolicyStatus;
  #watcher: fs.FSWatcher | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    readonly file: string,
    private readonly bus?: EventBus,
    private readonly env: Record<string, string | undefined> = process.env,
  ) {
    const text = readPolicyText(file);
    this.#policy = parsePolicy(text, env, file);
    this.#status = { file, loadedAt: new Date(), hash: sha256(text), text };
  }

  get current(): Policy {
    return this.#policy;
  }

  get status(): PolicyStatus {
    return this.#status;
  }

  /** Watches the file's folder: editors often replace a file rather than write into it. */
  watch(): this {
    this.#watcher = fs.watch(path.dirname(this.file), (_event, name) => {
      if (name !== path.basename(this.file)) return;
      clearTimeout(this.#timer);
      this.#timer = setTimeout(() => this.reload(), RELOAD_DEBOUNCE_MS);
    });
    this.#watcher.on("error", (err) => console.error(`[policy] watching ${this.file} failed:`, err));
    return this;
  }

  /** Reads the file again; returns whether a new policy is in force. */
  reload(): boolean {
    let text: string;
    try {
      text = readPolicyText(this.file);
      if (sha256(text) === this.#status.hash && !this.#status.error) return false;
      this.#policy = parsePolicy(text, this.env, this.file);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.#status = { ...this.#status, error: { message, at: new Date() } };
      console.error(`[policy] the edit was not loaded; the previous policy stays in force:\n${message}`);
      this.bus?.publish({ type: "policy.changed", ok: false });
      return false;
    }
    this.#status = { file: this.file, loadedAt: new Date(), hash: sha256(text), text };
    console.log(`[policy] loaded ${this.file} (${this.#policy.rules.length} rules)`);
    this.bus?.publish({ type: "policy.changed", ok: true });
    return true;
  }

  close(): void {
    clearTimeout(this.#timer);
    this.#watcher?.close();
  }
}

/** The policy file's text; a file that cannot be read is a PolicyError naming it. */
export function readPolicyText(file: string): string {
  try {
    return fs.readFileSync(file, "utf8");
  } catch (err) {
    throw new PolicyError([{ path: "", message: `cannot read the policy file: ${(err as NodeJS.ErrnoException).code ?? err}` }], file);
  }
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}
