import type { AirlockEvent } from "./bus";

/** Activity counts cross to other processes at most this often. */
export const ACTIVITY_EVERY_MS = 1000;

type Activity = Extract<AirlockEvent, { type: "activity.recorded" }>;

/**
 * Activity is recorded many times a second under load and only makes other processes' pages
 * refresh: whichever the transport, it crosses at most once per ACTIVITY_EVERY_MS (the last of a
 * burst still goes, later). Other events go at once.
 */
export class ActivityThrottle {
  #pending: Activity | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(private readonly send: (event: AirlockEvent) => void) {}

  /** Sends `event` now, or (activity within ACTIVITY_EVERY_MS of the last sent) once that has passed. */
  offer(event: AirlockEvent): void {
    if (event.type !== "activity.recorded") return this.send(event);
    this.#pending = event;
    if (!this.#timer) this.#flush();
  }

  close(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#pending = undefined;
  }

  #flush(): void {
    this.#timer = undefined;
    const pending = this.#pending;
    this.#pending = undefined;
    if (!pending) return;
    this.send(pending);
    this.#timer = setTimeout(() => this.#flush(), ACTIVITY_EVERY_MS);
    this.#timer.unref();
  }
}
